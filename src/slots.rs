//! CPU slots: `-p` bounds the CPU-bound work of every stage that runs at the same time.
//!
//! In a pipelined release the builds, archives and packages of different targets overlap.
//! Each such task holds one slot while it works; when a slot frees, the waiting task of the
//! highest priority takes it, so the archive of a target already built goes before the next
//! build and its upload can start early. Waiting holds no thread of the CPU pool.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex};

/// Which waiting task gets a freed slot first: the later in a target's chain, the sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Building a binary.
    Build = 0,
    /// Packing what was built (archives, packages).
    Package = 1,
}

/// `n` slots shared by every CPU-bound task of a run.
#[derive(Debug)]
pub struct Slots {
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug)]
struct State {
    free: usize,
    /// Waiting tasks by (priority first, then arrival); the first one goes next.
    waiting: BTreeSet<(std::cmp::Reverse<Priority>, u64)>,
    next: u64,
}

/// One slot, given back when dropped.
#[must_use]
pub struct Permit<'a>(&'a Slots);

impl Slots {
    /// `n` slots (at least one).
    pub fn new(n: usize) -> Slots {
        Slots {
            state: Mutex::new(State {
                free: n.max(1),
                waiting: BTreeSet::new(),
                next: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// Wait for a slot; tasks of higher priority, then earlier ones, are served first.
    pub fn acquire(&self, priority: Priority) -> Permit<'_> {
        let mut s = self.state.lock().expect("slots");
        let ticket = (std::cmp::Reverse(priority), s.next);
        s.next += 1;
        s.waiting.insert(ticket);
        while !(s.free > 0 && s.waiting.first() == Some(&ticket)) {
            s = self.freed.wait(s).expect("slots");
        }
        s.waiting.remove(&ticket);
        s.free -= 1;
        // Another slot may be free for the next in line.
        self.freed.notify_all();
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().expect("slots");
        s.free += 1;
        self.0.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_freed_slot_goes_to_the_highest_priority_waiter() {
        let slots = Arc::new(Slots::new(1));
        let order = Arc::new(Mutex::new(vec![]));
        let held = slots.acquire(Priority::Build);
        let mut handles = vec![];
        for (i, p) in [Priority::Build, Priority::Package, Priority::Build]
            .into_iter()
            .enumerate()
        {
            let (slots, order) = (slots.clone(), order.clone());
            handles.push(std::thread::spawn(move || {
                let _p = slots.acquire(p);
                order.lock().unwrap().push(i);
            }));
            // Arrival order is fixed: each waiter queues before the next starts.
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(held);
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![1, 0, 2]);
    }

    #[test]
    fn never_more_holders_than_slots() {
        let slots = Arc::new(Slots::new(2));
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (slots, inside, most) = (slots.clone(), inside.clone(), most.clone());
                std::thread::spawn(move || {
                    let _p = slots.acquire(Priority::Build);
                    let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
