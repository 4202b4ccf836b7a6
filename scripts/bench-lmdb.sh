#!/usr/bin/env bash
# Issue 12's figures: how long Postfix's tools take to build a whole transport table (lmdb vs cdb) and to change one
# entry of a live lmdb table, and how long the agent's own delta apply (MapApplier, in-process, no Postfix running:
# reload and flush are /bin/true) takes against real lmdb tables of that size.
#   scripts/bench-lmdb.sh [domains…]     (default: 100000 1000000)
# Each domain is two transport lines (domain and .domain), as the publisher writes them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
work=$(mktemp -d /tmp/bench-lmdb-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/config"; echo "myhostname = relay.test" >"$work/config/main.cf"
seconds() { local start=$EPOCHREALTIME; "$@" >/dev/null; awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# The agent's delta apply: a file-based C# program against the relay-agent project (dotnet run app.cs, .NET 10).
cat >"$work/apply.cs" <<CS
#:project $ROOT/relay-agent/RelayAgent.csproj
#:property WarningLevel=0
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RelayAgent;

var maps = args[0];
var options = new AgentOptions { MapDirectory = maps, PostfixConfigDirectory = args[1], Postfix = "/bin/true", Postqueue = "/bin/true" };
var telemetry = new AgentTelemetry(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
var applier = new MapApplier(options, new Commands(options), telemetry, TimeProvider.System, NullLogger<MapApplier>.Instance);
// A whole snapshot of the same tables over the live ones: staging builds, the moved-route scan of both transport
// tables (LmdbTable), renames. Then deltas on top of it.
var files = new[] { "transport", "message_size_limits", "relay_recipients", "relay_domains" }.ToDictionary(n => n, n => File.ReadAllBytes(Path.Combine(maps, n)));
var scan = Stopwatch.StartNew();
var entries = LmdbTable.Entries(Path.Combine(maps, "transport")).Count();
Console.WriteLine(\$"  agent scan of the live transport table (LmdbTable, {entries} entries): {scan.Elapsed.TotalSeconds:F3} s");
// As on a relay that applied a generation before (its held set known).
File.WriteAllText(Path.Combine(maps, "applied.json"), """{"Generation":0,"Held":[]}""");
var whole = Stopwatch.StartNew();
await applier.ApplyAsync(new MapGeneration(1, files), default);
Console.WriteLine(\$"  agent snapshot apply (4 tables built and renamed, moved-route scan): {whole.Elapsed.TotalSeconds:F3} s");
(string, MapChange[])[] cases =
[
    ("a new domain (no release, no reload)", [new("transport", "new.example", "smtp:[192.0.2.200]:25"), new("relay_recipients", "@new.example", "OK"), new("relay_domains", "new.example", "OK")]),
    ("a route change (released: reload + postqueue -s)", [new("transport", "d7.example", "smtp:[192.0.2.201]:25"), new("transport", ".d7.example", "smtp:[192.0.2.201]:25")]),
    ("a domain deleted", [new("relay_domains", "d8.example", null), new("relay_recipients", "@d8.example", null), new("transport", "d8.example", null), new("transport", ".d8.example", null)]),
];
var generation = 1L;
foreach (var (name, changes) in cases)
{
    var watch = Stopwatch.StartNew();
    var result = await applier.ApplyAsync(new MapDelta(generation + 1, generation, changes, new Dictionary<string, byte[]>()), default);
    generation++;
    Console.WriteLine(\$"  agent delta apply, {name}: {watch.Elapsed.TotalSeconds:F3} s (released {result.Released.Count})");
}
CS

for n in "${sizes[@]}"; do
  dir="$work/$n"; mkdir -p "$dir/lmdb" "$dir/cdb"
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) { r = "smtp:[192.0.2." (i % 250 + 1) "]:25"; print "d" i ".example " r; print ".d" i ".example " r } }' >"$dir/lmdb/transport"
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) print "d" i ".example OK" }' >"$dir/lmdb/relay_domains"
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) print "@d" i ".example OK" }' >"$dir/lmdb/relay_recipients"
  : >"$dir/lmdb/message_size_limits"
  cp "$dir/lmdb/transport" "$dir/cdb/transport"
  echo "$n domains ($(wc -l <"$dir/lmdb/transport") transport lines, $(($(stat -c %s "$dir/lmdb/transport") / 1048576)) MiB):"
  echo "  postmap lmdb: transport (full build): $(seconds postmap -c "$work/config" "lmdb:$dir/lmdb/transport") s"
  echo "  postmap cdb: transport (full build): $(seconds postmap -c "$work/config" "cdb:$dir/cdb/transport") s"
  echo "  postmap -r -i lmdb: one change: $(seconds sh -c "echo 'd5.example smtp:[192.0.2.99]:25' | postmap -c '$work/config' -r -i 'lmdb:$dir/lmdb/transport'") s"
  echo "  postmap -d - lmdb: one delete: $(seconds sh -c "echo 'd6.example' | postmap -c '$work/config' -d - 'lmdb:$dir/lmdb/transport'; true") s"
  echo "  postmap -s lmdb: transport (a whole-table listing; one lock per entry): $(seconds postmap -c "$work/config" -s "lmdb:$dir/lmdb/transport") s"
  for t in relay_domains relay_recipients message_size_limits; do postmap -c "$work/config" "lmdb:$dir/lmdb/$t"; done
  (cd "$work" && dotnet run apply.cs -- "$dir/lmdb" "$work/config" 2>&1 | grep -v '^\s*$')
  rm -rf "$dir"
done
