#!/usr/bin/env bash
# Regenerates src-tauri/core/src/scanner/versions/testdata/gem-pairs.tsv:
# real version strings (the third column of a "name<TAB>x<TAB>v1 v2 ..." list
# such as the Maven Central version lists, and the second column of a
# "name<TAB>version" list such as PyPI's), those RubyGems accepts, paired
# within each list and at random, each pair ordered by RubyGems' own
# Gem::Version#<=> (Debian's ruby package).
# Usage: scripts/versions/gem-reference.sh lists.tsv pypi.tsv > testdata/gem-pairs.tsv
set -euo pipefail
ruby - "$1" "$2" <<'RUBY'
require "rubygems"
srand(11)
lists = []
File.foreach(ARGV[0]) do |line|
  f = line.chomp.split("\t")
  next if f.size < 3 || !f[0].include?(":")
  vs = f[2].split(" ").select { |v| v.match?(/\A[0-9A-Za-z.+-]+\z/) && Gem::Version.correct?(v) }
  lists << vs if vs.size >= 2
end
singles = []
File.foreach(ARGV[1]).with_index do |line, i|
  next if i.zero?
  v = line.split("\t")[1].to_s
  singles << v if v.match?(/\A[0-9A-Za-z.-]+\z/) && Gem::Version.correct?(v) && v.match?(/[a-z]/i) || (i % 50).zero? && Gem::Version.correct?(v)
  break if singles.size >= 3000
end
pairs = {}
lists.each { |vs| 3.times { a, b = vs.sample(2); pairs[[a, b]] = true } }
all = lists.flatten + singles
1500.times { pairs[[all.sample, all.sample]] = true }
1000.times { pairs[[singles.sample, singles.sample]] = true }
puts "# a<TAB>b<TAB>Gem::Version.new(a) <=> Gem::Version.new(b), by RubyGems #{Gem::VERSION} (Ruby #{RUBY_VERSION})"
pairs.keys.sort.each { |a, b| puts "#{a}\t#{b}\t#{Gem::Version.new(a) <=> Gem::Version.new(b)}" }
RUBY
