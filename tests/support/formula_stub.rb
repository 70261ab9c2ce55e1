# Evaluates a Homebrew formula outside Homebrew, for one platform, and prints what Homebrew
# would download there: `ruby formula_stub.rb FORMULA (macos|linux) (intel|arm)` prints
# `<version> <url> <sha256> <installed files>` (empty url when the formula has none there).
$os, $cpu = ARGV[1], ARGV[2]
$installed = []

module Hardware
  module CPU
    def self.intel? = $cpu == "intel"
    def self.arm? = $cpu == "arm"
    def self.is_64_bit? = true
  end
end

class Bin
  def install(*files) = $installed.concat(files)
end

class Formula
  @got = {}
  class << self
    attr_reader :got
    def desc(_) = nil
    def homepage(_) = nil
    def license(_) = nil
    def depends_on(*) = nil
    def conflicts_with(*) = nil
    def version(v) = (@got[:version] = v)
    def url(u) = (@got[:url] = u)
    def sha256(s) = (@got[:sha256] = s)
    def on_macos = ($os == "macos" ? yield : nil)
    def on_linux = ($os == "linux" ? yield : nil)
    def test(&) = nil
    def service(&) = nil
    def inherited(sub)
      super
      sub.instance_variable_set(:@got, @got)
    end
  end

  def bin = Bin.new
end

load ARGV[0]
klass = Formula.subclasses.first
klass.new.install if klass.method_defined?(:install)
g = klass.got
puts [g[:version], g[:url] || "", g[:sha256] || "", $installed.join(",")].join(" ")
