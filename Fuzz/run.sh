#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time (see Fuzz/README.md).
#
#   Fuzz/run.sh                              build every target, gather seeds, fuzz each for FUZZ_SECONDS (default 60)
#                                            in turn; non-zero exit when any of them crashed
#   Fuzz/run.sh --target NAME                the same for one target (repeat --target for several): DecodeMessage,
#                                            ParseZoneFile, ParseFilterList, ParseConfiguration
#   Fuzz/run.sh [--target NAME] CRASH_FILE…  build that target, then run just these inputs (reproduce a crash). Without
#                                            --target: the target whose .build-fuzz/<target>/ holds the file, else
#                                            DecodeMessage.
#
# Environment: FUZZ_SECONDS (default 60, per target), SWIFTC (default swiftc), CLANG (default: the clang next to
# swiftc), FUZZ_ARGS (extra libFuzzer flags, word-split, after the defaults so they win), YAMS_DIR (a Yams checkout;
# default: the package's own in .build/checkouts, read only, else a shallow clone into .build-fuzz/checkouts).
# Everything it makes lives in .build-fuzz/ at the repository root (git-ignored).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
script="$repo/Fuzz/run.sh"
caller="$PWD"
cd "$repo"

out=".build-fuzz"
modules="$out/modules"
seconds="${FUZZ_SECONDS:-60}"
swiftc="${SWIFTC:-swiftc}"
swiftc_dir="$(dirname "$(command -v "$swiftc" || echo "$swiftc")")"
clang="${CLANG:-$([[ -x "$swiftc_dir/clang" ]] && echo "$swiftc_dir/clang" || echo clang)}"
archive="$(dirname "$repo")/shared/fuzz/dns-packets.tar.gz"

all_targets=(DecodeMessage ParseZoneFile ParseFilterList ParseConfiguration)
# Folder and binary name of each target under .build-fuzz/.
slug() {
    case "$1" in
        DecodeMessage) echo decode-message ;;
        ParseZoneFile) echo parse-zone-file ;;
        ParseFilterList) echo parse-filter-list ;;
        ParseConfiguration) echo parse-configuration ;;
        *) return 1 ;;
    esac
}

# --- Arguments.
targets=()
inputs=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --target | -t)
            [[ $# -ge 2 ]] || { echo "fuzz: --target needs a name (${all_targets[*]})" >&2; exit 2; }
            slug "$2" > /dev/null || { echo "fuzz: no target '$2' (${all_targets[*]})" >&2; exit 2; }
            targets+=("$2")
            shift 2
            ;;
        --target=*)
            name="${1#--target=}"
            slug "$name" > /dev/null || { echo "fuzz: no target '$name' (${all_targets[*]})" >&2; exit 2; }
            targets+=("$name")
            shift
            ;;
        -h | --help)
            sed -n '2,15p' "$script" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            # Crash files are named from where the script was started; libFuzzer flags pass as they are.
            if [[ "$1" != -* && "$1" != /* && -e "$caller/$1" ]]; then inputs+=("$caller/$1"); else inputs+=("$1"); fi
            shift
            ;;
    esac
done
if [[ ${#inputs[@]} -gt 0 && ${#targets[@]} -eq 0 ]]; then
    # A crash file from a run names its target by the folder it was written to.
    guessed=DecodeMessage
    for name in "${all_targets[@]}"; do
        [[ "$(cd "$(dirname "${inputs[0]}")" 2> /dev/null && pwd)/" == *"/$out/$(slug "$name")/"* ]] && guessed=$name
    done
    targets=("$guessed")
fi
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
if [[ ${#inputs[@]} -gt 0 && ${#targets[@]} -ne 1 ]]; then
    echo "fuzz: to run crash files, name one target" >&2
    exit 2
fi

mkdir -p "$out/bin" "$modules"
# The layout before several targets: DecodeMessage's binary, corpus and artifacts right in .build-fuzz/.
if [[ -f "$out/decode-message" ]]; then rm -f "$out/decode-message"; fi
for folder in corpus artifacts; do
    if [[ -d "$out/$folder" && ! -e "$out/decode-message/$folder" ]]; then
        mkdir -p "$out/decode-message"
        mv "$out/$folder" "$out/decode-message/$folder"
    fi
done

# --- Build. Every step runs on one core, from a scratch folder (with -g the driver leaves module files in its cwd),
# and is redone when its output is missing or older than any of its inputs or this script. An output is removed
# before its step, so a failed step never leaves something that looks up to date.
swift_flags=(-O -wmo -j 1 -g -sanitize=fuzzer,address -parse-as-library)
strict_flags=(-swift-version 6 -enable-upcoming-feature ExistentialAny)

stale() { # OUTPUT INPUT…
    local output="$1"
    shift
    [[ ! -e "$output" ]] || [[ -n "$(find "$@" "$script" -newer "$output" -print -quit)" ]]
}

swift_files() { # FOLDER… → sorted .swift files, NUL-separated
    find "$@" -name '*.swift' -print0 | sort -z
}

# Pipeline's sources the fuzz targets need: all but the serving loop (Serve/) and the plugin API (Plugin/), which
# import swift-log and swift-metrics and which no target reaches (PipelineTests/Serve tests the serving loop
# in-process). The configuration target gets the one plugin-API file it uses from the stand-in `Plugins` below.
pipeline_files() { # [EXTRA FOLDER…] → sorted .swift files, NUL-separated
    find Sources/Pipeline "$@" -name '*.swift' -not -path 'Sources/Pipeline/Serve/*' \
        -not -path 'Sources/Pipeline/Plugin/*' -print0 | sort -z
}

step() { # LABEL OUTPUT COMMAND… (run in the output's scratch folder)
    local label="$1" output="$2"
    shift 2
    echo "fuzz: building $label"
    local start=$SECONDS
    rm -f "$output"
    mkdir -p "$out/obj/$label"
    (cd "$out/obj/$label" && "$@")
    echo "fuzz: $label took $((SECONDS - start)) s"
}

# Sources/Pipeline as the module `Pipeline`, for the targets that, like the package's Plugins and Host targets,
# import it (DecodeMessage builds it into its own module instead).
pipeline_lib="$modules/pipeline/libPipeline.a"
build_pipeline() {
    local sources=()
    while IFS= read -r -d '' file; do sources+=("$file"); done < <(pipeline_files)
    stale "$pipeline_lib" "${sources[@]}" || return 0
    mkdir -p "$modules/pipeline"
    step pipeline "$pipeline_lib" "$swiftc" "${swift_flags[@]}" "${strict_flags[@]}" -module-name Pipeline \
        -emit-library -static -emit-module -emit-module-path "$repo/$modules/pipeline/Pipeline.swiftmodule" \
        "${sources[@]/#/$repo/}" -o "$repo/$pipeline_lib"
}

# Yams (its Swift sources and libyaml, CYaml) as the package builds it, from the package's own checkout.
yams_lib="$modules/yams/libYams.a"
cyaml_lib="$modules/yams/libCYaml.a"
yams_source() {
    if [[ -n "${YAMS_DIR:-}" ]]; then
        (cd "$YAMS_DIR" && pwd)
    elif [[ -f .build/checkouts/Yams/Sources/CYaml/include/yaml.h ]]; then
        echo "$repo/.build/checkouts/Yams"
    else
        local clone="$out/checkouts/Yams"
        if [[ ! -f "$clone/Sources/CYaml/include/yaml.h" ]]; then
            # The version the package resolved, else the lowest it accepts.
            local version
            version="$(grep -A6 '"identity" : "yams"' Package.resolved 2> /dev/null | grep -o '"version" : "[^"]*"' \
                | grep -o '[0-9][0-9.]*' || true)"
            [[ -n "$version" ]] || version="$(grep -o 'Yams.git", from: "[^"]*"' Package.swift | grep -o '[0-9][0-9.]*')"
            echo "fuzz: no Yams checkout in .build/checkouts; cloning Yams $version into $clone" >&2
            rm -rf "$clone"
            mkdir -p "$out/checkouts"
            git clone --quiet --depth 1 --branch "$version" https://github.com/jpsim/Yams.git "$clone" >&2
        fi
        echo "$repo/$clone"
    fi
}
build_yams() {
    local yams
    yams="$(yams_source)"
    local include="$yams/Sources/CYaml/include"
    local c_sources=("$yams"/Sources/CYaml/src/*.c)
    local swift_sources=("$yams"/Sources/Yams/*.swift)
    mkdir -p "$modules/yams"
    # Rebuilt when the checkout moved too.
    if [[ "$(cat "$modules/yams/source" 2> /dev/null)" != "$yams" ]]; then rm -f "$cyaml_lib" "$yams_lib"; fi
    if stale "$cyaml_lib" "${c_sources[@]}" "$include"; then
        compile_cyaml() {
            local objects=()
            for file in "${c_sources[@]}"; do
                local object
                object="$(basename "$file" .c).o"
                "$clang" -c -O2 -g -fsanitize=fuzzer-no-link,address -DYAML_DECLARE_STATIC -I "$include" \
                    "$file" -o "$object"
                objects+=("$object")
            done
            ar rcs "$repo/$cyaml_lib" "${objects[@]}"
        }
        step cyaml "$cyaml_lib" compile_cyaml
    fi
    if stale "$yams_lib" "${swift_sources[@]}" "$cyaml_lib"; then
        step yams "$yams_lib" "$swiftc" "${swift_flags[@]}" -swift-version 5 -D SWIFT_PACKAGE -module-name Yams \
            -Xcc -I"$include" -Xcc -DYAML_DECLARE_STATIC \
            -emit-library -static -emit-module -emit-module-path "$repo/$modules/yams/Yams.swiftmodule" \
            "${swift_sources[@]}" -o "$repo/$yams_lib"
    fi
    echo "$yams" > "$modules/yams/source"
    yams_include="$include"
}

# A stand-in module `Plugins` for what Sources/Host/Config uses of the plugin API (OptionDuration, the real file;
# PluginContext.resolve, Fuzz/Stubs/Plugins), which the package has in Pipeline/Plugin next to code that needs
# swift-log and swift-metrics.
plugins_lib="$modules/plugins-stub/libPlugins.a"
build_plugins_stub() {
    local sources=(Sources/Pipeline/Plugin/Options+Decoding.swift)
    while IFS= read -r -d '' file; do sources+=("$file"); done < <(swift_files Fuzz/Stubs/Plugins)
    stale "$plugins_lib" "${sources[@]}" || return 0
    mkdir -p "$modules/plugins-stub"
    step plugins-stub "$plugins_lib" "$swiftc" "${swift_flags[@]}" "${strict_flags[@]}" -module-name Plugins \
        -emit-library -static -emit-module -emit-module-path "$repo/$modules/plugins-stub/Plugins.swiftmodule" \
        "${sources[@]/#/$repo/}" -o "$repo/$plugins_lib"
}

build_target() { # NAME
    local name="$1" label
    label="$(slug "$name")"
    local binary="$out/bin/$label"
    local sources=() deps=() flags=() module
    case "$name" in
        DecodeMessage)
            # Every Pipeline source (Wire/, Chain/, Cache/ with the ReplyScrubber, …) and the target, as one module.
            while IFS= read -r -d '' file; do sources+=("$file"); done < <(pipeline_files Fuzz/DecodeMessage)
            module=PipelineFuzz
            ;;
        ParseZoneFile)
            build_pipeline
            # The zone-file parser is part of Pipeline (Wire/ZoneFile.swift); the target links it.
            while IFS= read -r -d '' file; do sources+=("$file"); done < <(swift_files Fuzz/ParseZoneFile)
            deps=("$pipeline_lib")
            flags=(-I "$repo/$modules/pipeline" -L "$repo/$modules/pipeline" -lPipeline)
            module=ZoneFileFuzz
            ;;
        ParseFilterList)
            build_pipeline
            # The filter plugin's rules engine (its own target: reading lines, compiling and matching, no I/O) and
            # the target, as one module; the engine's `package` declarations need a package name.
            while IFS= read -r -d '' file; do sources+=("$file"); done < <(swift_files Sources/FilterRuleEngine Fuzz/ParseFilterList)
            deps=("$pipeline_lib")
            flags=(-package-name Swiftlet -I "$repo/$modules/pipeline" -L "$repo/$modules/pipeline" -lPipeline)
            module=FilterListFuzz
            ;;
        ParseConfiguration)
            build_pipeline
            build_yams
            build_plugins_stub
            while IFS= read -r -d '' file; do sources+=("$file"); done < <(swift_files Sources/Host/Config Fuzz/ParseConfiguration)
            deps=("$pipeline_lib" "$yams_lib" "$cyaml_lib" "$plugins_lib")
            flags=(-I "$repo/$modules/pipeline" -I "$repo/$modules/yams" -I "$repo/$modules/plugins-stub"
                -Xcc -I"$yams_include"
                -L "$repo/$modules/pipeline" -L "$repo/$modules/yams" -L "$repo/$modules/plugins-stub"
                -lPipeline -lYams -lCYaml -lPlugins)
            module=ConfigurationFuzz
            ;;
    esac
    if stale "$binary" "${sources[@]}" "${deps[@]}"; then
        step "$label" "$binary" "$swiftc" "${swift_flags[@]}" "${strict_flags[@]}" -module-name "$module" \
            -use-ld=lld "${flags[@]}" "${sources[@]/#/$repo/}" -o "$repo/$binary"
    else
        echo "fuzz: $binary is up to date"
    fi
}

build_start=$SECONDS
for name in "${targets[@]}"; do build_target "$name"; done
echo "fuzz: build done in $((SECONDS - build_start)) s"

# Let libFuzzer report traps itself: the Swift runtime's backtracer would otherwise run first (and trips ASan).
export SWIFT_BACKTRACE=enable=no

if [[ ${#inputs[@]} -gt 0 ]]; then
    exec "$out/bin/$(slug "${targets[0]}")" -timeout=5 -rss_limit_mb=2048 "${inputs[@]}"
fi

# --- Seeds, gathered from the repository on every run into .build-fuzz/seeds/ (never into the tracked tree).

# The multi-line string literals of a Swift file, one file each (indentation, \t and \" undone; good enough for
# seeds).
swift_literals() { # SWIFT_FILE DIR PREFIX
    awk -v dir="$2" -v prefix="$3" '
        function flush(   i, line, file) {
            file = sprintf("%s/%s-%03d.txt", dir, prefix, ++count)
            for (i = 1; i <= n; i++) {
                line = lines[i]
                if (substr(line, 1, indent) ~ /^[ \t]*$/) line = substr(line, indent + 1)
                gsub(/\\t/, "\t", line)
                gsub(/\\"/, "\"", line)
                print line > file
            }
            close(file)
        }
        inside && /^[ \t]*"""/ { match($0, /^[ \t]*/); indent = RLENGTH; flush(); inside = 0; next }
        inside { lines[++n] = $0; next }
        /"""[ \t]*$/ { inside = 1; n = 0 }
    ' "$1"
}

# The ```yaml blocks of a Markdown file, one file each.
fenced_yaml() { # MARKDOWN DIR PREFIX
    awk -v dir="$2" -v prefix="$3" '
        /^```yaml/ { inside = 1; file = sprintf("%s/%s-%02d.yaml", dir, prefix, ++count); next }
        /^```/ { if (inside) close(file); inside = 0; next }
        inside { print > file }
    ' "$1"
}

gather_seeds() { # NAME → seed folders, one a line
    local name="$1" dir
    case "$name" in
        DecodeMessage)
            # The shared packet corpus (unpacked once) and the golden fixtures as binary.
            local seeds="$out/seeds"
            if [[ -f "$archive" ]]; then
                if [[ ! -d "$seeds/packet" ]]; then
                    mkdir -p "$seeds"
                    tar -xzf "$archive" -C "$seeds"
                fi
            else
                echo "fuzz: warning: no seed archive at $archive; fuzzing from the fixtures and the work corpus only" >&2
            fi
            mkdir -p "$seeds/fixtures"
            for hexfile in Tests/Fixtures/wire/*.hex; do
                [[ -e "$hexfile" ]] || continue
                # First line is a `# ` comment; the rest is hex, 64 digits a line.
                local digits escaped
                digits="$(tail -n +2 "$hexfile" | grep -v '^#' | tr -d ' \t\r\n')"
                escaped="$(printf '%s' "$digits" | sed 's/\(..\)/\\x\1/g')"
                printf '%b' "$escaped" > "$seeds/fixtures/$(basename "$hexfile" .hex).bin"
            done
            echo "$seeds/fixtures"
            [[ -d "$seeds/packet" ]] && echo "$seeds/packet"
            return 0
            ;;
    esac
    dir="$out/seeds/$(slug "$name")"
    rm -rf "$dir"
    mkdir -p "$dir"
    case "$name" in
        ParseZoneFile)
            for file in Tests/Fixtures/zones/*.zone; do [[ -e "$file" ]] && cp "$file" "$dir/"; done
            [[ -f Tests/PipelineTests/Wire/ZoneFileTests.swift ]] \
                && swift_literals Tests/PipelineTests/Wire/ZoneFileTests.swift "$dir" test
            # The resolver scenarios' records (`answer|authority|additional NAME TTL TYPE RDATA`) as one zone.
            cat Tests/Fixtures/scenarios/*.scn 2> /dev/null \
                | sed -n 's/^[[:space:]]*\(answer\|authority\|additional\)[[:space:]]\{1,\}//p' > "$dir/scenarios.zone" || true
            ;;
        ParseFilterList)
            for file in Tests/Fixtures/filter/*.txt Tests/Fixtures/hosts/*; do [[ -f "$file" ]] && cp "$file" "$dir/"; done
            if [[ -f Tests/FilterRuleEngineTests/FilterRuleTests.swift ]]; then
                swift_literals Tests/FilterRuleEngineTests/FilterRuleTests.swift "$dir" test
                # The one-line rules the tests write (`inline: ["||x^$client=…"]`), as one list.
                grep -oE '"(\|\||@@|\*\.|/|\|)[^"]*"' Tests/FilterRuleEngineTests/FilterRuleTests.swift \
                    | sed 's/^"//; s/"$//' > "$dir/test-inline.txt" || true
            fi
            ;;
        ParseConfiguration)
            for file in Corefile.example.yaml Examples/*/*.yaml; do [[ -f "$file" ]] && cp "$file" "$dir/"; done
            for file in README.md PLUGINS.md Sources/Plugins/*/README.md; do
                [[ -f "$file" ]] && fenced_yaml "$file" "$dir" "$(echo "$file" | tr '/.' '--')"
            done
            local tests=Tests/HostTests/Config/ConfigTests.swift
            if [[ -f "$tests" ]]; then
                swift_literals "$tests" "$dir" test
                # The one-line configurations of the error table (`"servers:\n  - listen: …\n",`).
                local count=0 line
                while IFS= read -r line; do
                    count=$((count + 1))
                    printf '%b' "$(printf '%s' "$line" | sed 's/\\"/"/g')" > "$dir/test-line-$count.yaml"
                done < <(grep -oE '^[[:space:]]*"(servers|admin|log):([^"\\]|\\.)*"' "$tests" \
                    | sed 's/^[[:space:]]*"//; s/"$//')
            fi
            ;;
    esac
    # Nothing empty: an empty file is no seed.
    find "$dir" -type f -empty -delete
    echo "$dir"
}

max_len() {
    case "$1" in
        # ~10x the executions per second of the 64 KiB default and more coverage in a short run; FUZZ_ARGS=-max_len=65535
        # reaches what only big messages do (pointers past 0x3FFF, the 65535 limit).
        DecodeMessage) echo 4096 ;;
        # Text: a zone, list or configuration file of a few screens.
        *) echo 8192 ;;
    esac
}

# --- Fuzz, one target after another. The first directory (the work corpus) collects new inputs; the seed
# directories are only read.
failed=()
summary=()
for name in "${targets[@]}"; do
    label="$(slug "$name")"
    binary="$out/bin/$label"
    work="$out/$label"
    corpus="$work/corpus"
    artifacts="$work/artifacts"
    log="$work/fuzz.log"
    mkdir -p "$corpus" "$artifacts"
    seed_dirs=()
    while IFS= read -r dir; do seed_dirs+=("$dir"); done < <(gather_seeds "$name")
    dict_flag=()
    for dict in Fuzz/"$name"/*.dict; do [[ -f "$dict" ]] && dict_flag=("-dict=$dict"); done
    echo "fuzz: $name: running for $seconds s; log in $log, crashes in $artifacts/"
    set +e
    # shellcheck disable=SC2086
    "$binary" \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
        -max_len="$(max_len "$name")" "${dict_flag[@]}" -artifact_prefix="$artifacts/" -print_final_stats=1 \
        ${FUZZ_ARGS:-} "$corpus" "${seed_dirs[@]}" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e

    executions="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
    rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
    if [[ -z "$executions" ]]; then
        # A crash ends the run before the final stats; take the last status line instead (`#12345 ... exec/s: 678`).
        last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
        executions="$(printf '%s' "$last" | grep -oE '^#[0-9]+' | tr -d '#' || true)"
        rate="$(printf '%s' "$last" | grep -oE 'exec/s: [0-9]+' | grep -oE '[0-9]+' || true)"
    fi
    corpus_size="$(find "$corpus" -type f | wc -l | tr -d ' ')"
    if [[ $status -eq 0 ]]; then
        line="fuzz: $name: OK: ${executions:-?} executions in $seconds s (${rate:-?} exec/s), work corpus $corpus_size inputs"
    else
        crash="$(grep -o "Test unit written to .*" "$log" | tail -n 1 | sed 's/Test unit written to //' || true)"
        line="fuzz: $name: FAILED (exit $status) after ${executions:-?} executions (${rate:-?} exec/s); input: ${crash:-see $log}"
        line+=$'\n'"fuzz: reproduce with: Fuzz/run.sh --target $name ${crash:-<crash file>}"
        failed+=("$name")
    fi
    echo "$line"
    summary+=("$line")
done

if [[ ${#targets[@]} -gt 1 ]]; then
    echo "fuzz: summary"
    printf '%s\n' "${summary[@]}"
fi
[[ ${#failed[@]} -eq 0 ]] || exit 1
