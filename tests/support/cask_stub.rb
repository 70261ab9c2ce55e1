# Evaluates a Homebrew cask outside Homebrew, for one platform, and prints what Homebrew would
# download and link there: `ruby cask_stub.rb CASK (macos|linux) (intel|arm)` prints
# `<token> <version> <url> <sha256> <binaries>`.
$os, $cpu = ARGV[1], ARGV[2]
$got = { binaries: [] }

class CaskDSL
  def desc(_) = nil
  def homepage(_) = nil
  def version(v) = ($got[:version] = v)
  def livecheck(&) = nil
  def binary(b) = $got[:binaries] << b
  def manpage(_) = nil
  def bash_completion(_) = nil
  def zsh_completion(_) = nil
  def fish_completion(_) = nil
  def depends_on(**) = nil
  def conflicts_with(**) = nil
  def on_macos = ($os == "macos" ? yield : nil)
  def on_linux = ($os == "linux" ? yield : nil)
  def on_intel = ($cpu == "intel" ? yield : nil)
  def on_arm = ($cpu == "arm" ? yield : nil)
  def url(u, **) = ($got[:url] = u)
  def sha256(s) = ($got[:sha256] = s)
  def postflight(&) = nil
  def preflight(&) = nil
  def uninstall_preflight(&) = nil
  def uninstall_postflight(&) = nil
  def caveats(_) = nil
end

def cask(token, &block)
  $got[:token] = token
  CaskDSL.new.instance_eval(&block)
end

load ARGV[0]
puts [$got[:token], $got[:version], $got[:url] || "", $got[:sha256] || "", $got[:binaries].join(",")].join(" ")
