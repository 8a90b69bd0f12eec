#!/usr/bin/env bash
# Issue 11's GPU figures, run on a GPU machine from the pack that `cargo xtask gpu-pack` makes
# (.gpu/: CLI binaries built here, since that machine has no cargo; the data; Vulkan's loader;
# this script; PyTorch's reference step). Stages, while the time budget lasts:
#
#   check   each binary: `breastmnist check` against flex, on wgpu (a wgpu build) or vulkan
#           (a vulkan build, whose wgpu runs the same SPIR-V)
#   bench   PyTorch's step time on the same GPU, then `breastmnist bench` on each binary's GPU
#           for small and resnet18 at batch 128 and 32, direct and gemm, each row's ratio to
#           PyTorch's step for the same model and batch
#   paper   the official recipe (ResNet-18, 100 epochs, batch 128) with the first binary whose
#           check passed (a wgpu build first: the browser's WGSL), for seeds 0, 1, 2 while the
#           budget lasts and no seed fails; wall time and test AUC/ACC per seed
#
# burn's autotune is trusted only as far as it was checked in this run: the autotune-checks
# build (every tuned candidate compared with a reference; a mismatch panics) must pass `check`,
# and its `bench` on each model and batch before the autotune build is benched on it.
#
# `all` fits one device call: check; bench the builds without autotune while one more row and
# the recipe's seed 0 (SEED_S, default 200 s; a seed took 183-187 s on an H200 without fusion)
# still fit; seed 0; bench the autotune builds; seeds 1 and 2.
#
# Usage: bash .gpu/run.sh [check|bench|paper|all] (default all). BUDGET_S (default 540) is the
# seconds after which no new stage, bench row or seed starts. Everything is logged to
# $OUT/run.log (or .gpu/out when OUT is unset), with torch.txt and each seed's metrics JSON
# beside it. MODELS, BATCHES, BACKEND (every stage's; default: each build's own), CHECK_MODELS
# and CHECK_STEPS (check's; default tiny,c8 and 20) and PAPER (extra `train` flags) narrow it,
# e.g. for crates/cli's test of it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out}
budget=${BUDGET_S:-540}
seed_s=${SEED_S:-200}
check_models=${CHECK_MODELS:-tiny,c8}
check_steps=${CHECK_STEPS:-20}
models=${MODELS:-small,resnet18}
batches=${BATCHES:-128 32}
backend=${BACKEND:-}
stage=${1:-all}
case $stage in check | bench | paper | all) ;; *)
    echo "usage: run.sh [check|bench|paper|all]"
    exit 2
    ;;
esac
mkdir -p "$out"

# Vulkan's loader, where the machine lacks it (the device README's recipe). grep reads all of
# ldconfig's list: `grep -q` would stop early, and pipefail would count ldconfig's SIGPIPE.
if ! ldconfig -p 2>/dev/null | grep libvulkan.so.1 >/dev/null && compgen -G "$here/gl/*.deb" >/dev/null; then
    for f in "$here"/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl

# The binaries travel xz-compressed (`gpu-pack`); unpack each beside the others, in a temp dir.
bins=()
unpacked=${TMPDIR:-/tmp}/breastmnist-bin
mkdir -p "$unpacked"
for b in "$here"/bin/breastmnist-*; do
    if [ "${b%.xz}" != "$b" ]; then
        dst=$unpacked/$(basename "${b%.xz}")
        xz -dc "$b" >"$dst" 2>/dev/null ||
            python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$b" "$dst" ||
            { echo "cannot unpack $b"; exit 2; }
        chmod +x "$dst"
        b=$dst
    fi
    [ -x "$b" ] && bins+=("$b")
done
# The order every stage walks: wgpu builds (the browser's WGSL), other plain builds, then
# autotune-checks, whose check and bench decide whether the autotune build after it is trusted.
rank() {
    case ${1##*/} in *autotune-checks*) echo 2 ;; *autotune*) echo 3 ;; *vulkan*) echo 1 ;; *) echo 0 ;; esac
}
mapfile -t bins < <(for b in "${bins[@]}"; do echo "$(rank "$b") $b"; done | sort -s -k1,1n | cut -d' ' -f2-)
data=$here/breastmnist.npz
if [ ${#bins[@]} -eq 0 ] || [ ! -f "$data" ]; then
    echo "no binaries in $here/bin or no $data: run cargo xtask gpu-pack here and carry what it lists"
    exit 2
fi

# wgpu's OpenGL probe complains on every start without it.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}
# passed: the recipe's build; tuned: yes/no once the autotune-checks build has run; last: a
# recipe seed's wall time (SEED_S until one ran); row: the longest bench row so far (60 s until
# one ran).
passed= tuned= measured= stopped= last=$seed_s row=60
started=$SECONDS
left() { echo $((budget - (SECONDS - started))); }
say() { printf '\n==> [%4ds] %s\n' $((SECONDS - started)) "$*"; }
gpu_of() { # the GPU backend every stage uses on a binary
    [ -n "$backend" ] && { echo "$backend"; return; }
    case ${1##*/} in *vulkan*) echo "vulkan" ;; *) echo "wgpu" ;; esac
}
# An autotune build (either) is used only while its checks hold: see the header.
trusted() {
    case ${1##*/} in
    *autotune*) [ "$tuned" = yes ] || { echo "${1##*/}: skipped, no autotune-checks build passed check and bench in this run"; return 1; } ;;
    esac
}

check() {
    local b gpu status
    for b in "${bins[@]}"; do
        if [ "$(left)" -lt 60 ]; then
            say "budget: $(left) s left, check stops"
            return
        fi
        [ "$(rank "$b")" = 3 ] && ! trusted "$b" && continue
        gpu=$(gpu_of "$b")
        say "${b##*/}: check --backend $gpu"
        "$b" check --backend "$gpu" --models "$check_models" --steps "$check_steps" --conv direct,gemm
        status=$?
        echo "exit status $status"
        case $(rank "$b") in
        2) [ "$status" = 0 ] && [ "$tuned" != no ] && tuned=yes || tuned=no ;;
        *) [ "$status" = 0 ] && [ -z "$passed" ] && passed=$b ;;
        esac
    done
}

bench() { # $1: plain (builds without autotune), tuned (the autotune ones) or both
    local which=${1:-both} batch model ref b gpu status t0 need
    if [ -z "$measured" ]; then
        say "PyTorch's step on this machine (the reference)"
        python3 "$here/torch_bench.py" --models "$models" --batches "${batches// /,}" --steps 20 | tee "$out/torch.txt"
        measured=yes
    fi
    for batch in $batches; do
        for model in ${models//,/ }; do
            ref=$(awk -v m="$model" -v b="b$batch" '$1 == "torch" && $2 == m && $3 == b { print $5 }' "$out/torch.txt")
            for b in "${bins[@]}"; do
                case $which:$(rank "$b") in plain:[01] | tuned:[23] | both:*) ;; *) continue ;; esac
                trusted "$b" >/dev/null || continue
                # A row starts only if a row as long as the longest so far still fits, and,
                # before the recipe, its seed 0 after it.
                need=$row
                [ "$which" = plain ] && need=$((row + last + 30))
                if [ "$(left)" -lt "$need" ]; then
                    say "budget: $(left) s left, $which bench stops (a row takes up to $row s$([ "$which" = plain ] && echo ", the recipe's seed 0 about $last s"))"
                    return
                fi
                gpu=$(gpu_of "$b")
                say "${b##*/}: bench --backends $gpu, $model, batch $batch (last column: ms / PyTorch's ${ref:-(not measured)} ms)"
                t0=$SECONDS
                "$b" bench --backends "$gpu" --models "$model" --batches "$batch" --steps 5 --conv direct,gemm \
                    ${ref:+--reference-ms "$ref"}
                status=$?
                echo "exit status $status"
                [ $((SECONDS - t0)) -gt "$row" ] && row=$((SECONDS - t0))
                if [ "$(rank "$b")" = 2 ] && [ "$status" != 0 ]; then
                    tuned=no
                    say "${b##*/} failed on $model at batch $batch: the autotune build is not trusted"
                fi
            done
        done
    done
}

paper() { # $@: the seeds (default 0 1 2); a seed starts only if the last one's time fits
    local b=$passed seed t0 status dir candidate gpu seeds=("$@")
    [ $# -eq 0 ] && seeds=(0 1 2)
    [ -n "$stopped" ] && return
    if [ -z "$b" ]; then # no check passed in this run (or none ran): the first trusted build
        for candidate in "${bins[@]}"; do trusted "$candidate" >/dev/null && b=$candidate && break; done
    fi
    if [ -z "$b" ]; then
        say "no build to run the recipe on (an autotune build needs an autotune-checks build's check first)"
        stopped=yes
        return
    fi
    gpu=$(gpu_of "$b")
    for seed in "${seeds[@]}"; do
        if [ "$(left)" -lt $((last + 30)) ]; then
            say "budget: $(left) s left and a seed takes about $last s: seed $seed not started"
            return
        fi
        say "${b##*/}: official recipe, seed $seed (train --preset paper --backend $gpu ${PAPER:-})"
        dir=${TMPDIR:-/tmp}/breastmnist-paper-$seed
        rm -rf "$dir"
        t0=$SECONDS
        # shellcheck disable=SC2086 # PAPER holds several flags
        "$b" train --data "$data" --preset paper --backend "$gpu" --seed "$seed" --out "$dir" ${PAPER:-}
        status=$?
        last=$((SECONDS - t0))
        echo "exit status $status; wall time $last s"
        if [ "$status" != 0 ]; then
            say "seed $seed failed: the recipe stops"
            stopped=yes
            return
        fi
        cp "$dir/metrics.json" "$out/paper-$seed.json"
    done
}

main() {
    say "machine"
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    else
        echo "no nvidia-smi"
    fi
    echo "$(nproc) CPU cores; binaries: ${bins[*]##*/}; budget $budget s"
    case $stage in
    check) check ;;
    bench) bench ;;
    paper) paper ;;
    all)
        check
        bench plain
        paper 0
        bench tuned
        paper 1 2
        ;;
    esac
    say "done"
}

main 2>&1 | tee -a "$out/run.log"
