#!/usr/bin/env bash
# Measures calconnect against the floor of its own stack and prints one line per figure, each ending in its
# ratio, then the goals met or missed. Nothing here is asserted: the figures are for people to read.
#
#   footprint binary     the stripped release binary, against a Tauri v2 hello world (bench/hello-tauri) built
#                        with the same Tauri crates and the same release profile
#   footprint idle-pss   PSS of the app and the WebKit processes it started, 12 s after the spawn
#   footprint start      spawn -> first screen interactive (the page's `ui_ready` signal), median of 5
#   flow ...             the sandbox with a fixed latency per Microsoft request, against the round-trip floor
#
# Both apps run on one virtual display (Xvfb), in one private D-Bus session with GNOME Keyring, calconnect as
# installed (no --sandbox) with a fresh data folder. Run it on an otherwise idle machine: start-up times are
# CPU-bound and another build running beside them shows in the figures.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_toolchains
ensure_apt_packages "${BUILD_PACKAGES[@]}" xvfb xauth dbus gnome-keyring binutils
cd "$ROOT"

# The hello world is only a floor if it is built the way calconnect is.
profile() { awk '/^\[profile\.release\]/{on=1; next} /^\[/{on=0} on && NF && !/^#/' "$1"; }
if ! diff <(profile Cargo.toml) <(profile bench/Cargo.toml) >/dev/null; then
    echo "bench/Cargo.toml's [profile.release] differs from Cargo.toml's: make them equal first." >&2
    exit 1
fi
tauri_version() { awk '/^name = "tauri"$/{getline; print $3; exit}' "$1"; }
if [ ! -f bench/Cargo.lock ]; then
    cp Cargo.lock bench/Cargo.lock   # cargo keeps the locked versions of the crates both use
fi

say "Building calconnect, the hello world and the footprint meter (release)"
cargo build --quiet --release -p calconnect-app --features custom-protocol
cargo build --quiet --release --manifest-path bench/Cargo.toml -p hello-tauri --features custom-protocol
cargo build --quiet --release --manifest-path bench/Cargo.toml -p footprint
if [ "$(tauri_version Cargo.lock)" != "$(tauri_version bench/Cargo.lock)" ]; then
    echo "The hello world's tauri ($(tauri_version bench/Cargo.lock)) is not calconnect's ($(tauri_version Cargo.lock))." >&2
    exit 1
fi
calconnect="$CARGO_TARGET_DIR/release/calconnect-app"
hello="$CARGO_TARGET_DIR/release/hello-tauri"
footprint="$CARGO_TARGET_DIR/release/footprint"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

# Stripped size in bytes (a copy is stripped, whatever the profile did).
stripped_size() { strip -o "$scratch/stripped" "$1" && stat -c %s "$scratch/stripped"; }
mb() { awk -v bytes="$1" 'BEGIN { printf "%.1f", bytes / 1000000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

calconnect_bytes="$(stripped_size "$calconnect")"
hello_bytes="$(stripped_size "$hello")"

say "Starting each app 1 + 5 times on a virtual display (about 2.5 minutes)"
# One session for both, so they meet the same display server, bus and keyring.
cat >"$scratch/measure.sh" <<'MEASURE'
#!/usr/bin/env bash
set -euo pipefail
"$FOOTPRINT" -- "$HELLO" >"$SCRATCH/hello.txt"
CALCONNECT_DATA_DIR="$SCRATCH/calconnect-data" "$FOOTPRINT" -- "$CALCONNECT" >"$SCRATCH/calconnect.txt"
MEASURE
chmod +x "$scratch/measure.sh"
FOOTPRINT="$footprint" HELLO="$hello" CALCONNECT="$calconnect" SCRATCH="$scratch" \
    xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
    "$ROOT/scripts/with-keyring.sh" "$scratch/measure.sh" 2>"$scratch/apps.log" \
    || { echo "The footprint runs failed; their output:" >&2; tail -n 40 "$scratch/apps.log" >&2; exit 1; }
figure() { sed -n "s/^$2=//p" "$scratch/$1.txt"; }

say "Timing the flows against the sandbox (injected latency)"
cargo bench --quiet -p calconnect-core --bench connect >"$scratch/flows.txt"
cargo bench --quiet -p calconnect-ews --bench autodiscover >>"$scratch/flows.txt"
cargo bench --quiet -p calconnect-ews --bench bulk -- --flow >>"$scratch/flows.txt"

say "Per run (start ms, PSS kB per process)"
sed 's/^/hello:      /' <(grep '^run' "$scratch/hello.txt")
sed 's/^/calconnect: /' <(grep '^run' "$scratch/calconnect.txt")
say "Where the flows' time goes"
grep -v '^flow ' "$scratch/flows.txt"

lines="$scratch/lines.txt"
{
    echo "footprint binary: calconnect $(mb "$calconnect_bytes") MB, hello $(mb "$hello_bytes") MB, ratio $(ratio "$calconnect_bytes" "$hello_bytes")"
    c_pss="$(figure calconnect idle_pss_kb)" h_pss="$(figure hello idle_pss_kb)"
    echo "footprint idle-pss: calconnect $(mb "$((c_pss * 1024))") MB, hello $(mb "$((h_pss * 1024))") MB, ratio $(ratio "$c_pss" "$h_pss")"
    c_start="$(figure calconnect start_ms)" h_start="$(figure hello start_ms)"
    echo "footprint start: calconnect $c_start ms, hello $h_start ms, ratio $(ratio "$c_start" "$h_start")"
    grep '^flow ' "$scratch/flows.txt"
} >"$lines"
say "Results"
cat "$lines"

# Goals: (line prefix, the largest ratio that meets it). calendars-N is a count of round trips instead.
say "Goals"
goal() {
    local prefix="$1" limit="$2" value
    value="$(grep "^$prefix" "$lines" | sed -n 's/.*ratio \([0-9.]*\)$/\1/p')"
    if [ -z "$value" ]; then echo "$prefix: no figure"; return; fi
    if awk -v v="$value" -v l="$limit" 'BEGIN { exit !(v <= l) }'; then
        echo "met:    $prefix ratio $value <= $limit"
    else
        echo "missed: $prefix ratio $value > $limit"
    fi
}
goal "footprint binary" 1.5
goal "footprint idle-pss" 1.15
goal "footprint start" 1.2
goal "flow redirect-to-calendars" 1.1
goal "flow freebusy-year" 1.15
goal "flow autodiscover-dead-candidate" 1.2
goal "flow bulk-mailboxes" 1.3
round_trips="$(sed -n 's/^flow calendars-[0-9]*: \([0-9]*\) round trips,.*/\1/p' "$lines")"
if [ "${round_trips:-99}" -le 2 ]; then
    echo "met:    flow calendars-25 in $round_trips round trips <= 2"
else
    echo "missed: flow calendars-25 in ${round_trips:-?} round trips > 2"
fi
