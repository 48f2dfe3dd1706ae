#!/usr/bin/env bash
# Regenerates src-tauri/core/src/scanner/versions/testdata/maven-pairs.tsv:
# real Maven Central version strings (one list per artifact, given as
# "group:artifact<TAB>ignored<TAB>v1 v2 v3 ..." lines on stdin or in $1),
# paired within each artifact and across artifacts, each pair ordered by
# Maven's own org.apache.maven.artifact.versioning.ComparableVersion from the
# maven-artifact jar of the installed Maven (Debian's maven package).
# Usage: scripts/versions/maven-reference.sh versions.tsv > testdata/maven-pairs.tsv
set -euo pipefail
jar=$(ls /usr/share/maven/lib/maven-artifact-*.jar | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/Ref.java" <<'JAVA'
import java.io.*;
import org.apache.maven.artifact.versioning.ComparableVersion;
public class Ref {
  public static void main(String[] a) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in));
    String line;
    while ((line = r.readLine()) != null) {
      String[] f = line.split("\t");
      int c = new ComparableVersion(f[0]).compareTo(new ComparableVersion(f[1]));
      System.out.println(f[0] + "\t" + f[1] + "\t" + Integer.signum(c));
    }
  }
}
JAVA
javac -cp "$jar" -d "$work" "$work/Ref.java"
python3 - "${1:-/dev/stdin}" > "$work/pairs" <<'PY'
import random, re, sys
random.seed(7)
lists = []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) < 3 or ":" not in f[0]:
        continue
    vs = [v for v in f[2].split(" ") if v and not v.startswith("(") and not v.endswith(")") and re.fullmatch(r"[A-Za-z0-9._+-]+", v) and any(c.isdigit() for c in v)]
    if len(vs) >= 2:
        lists.append(vs)
pairs = set()
for vs in lists:
    for _ in range(3):
        a, b = random.sample(vs, 2)
        pairs.add((a, b))
allv = [v for vs in lists for v in vs]
for _ in range(1500):
    pairs.add((random.choice(allv), random.choice(allv)))
for a, b in sorted(pairs):
    print(f"{a}\t{b}")
PY
echo "# a<TAB>b<TAB>sign of ComparableVersion(a).compareTo(b), by $(basename "$jar") (Maven $(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g' | awk '{print $3}'))"
java -cp "$jar:$work" Ref < "$work/pairs"
