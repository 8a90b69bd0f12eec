#!/usr/bin/env bash
# Issue 11's GPU figures, run on a GPU machine from the pack that `cargo xtask gpu-pack` makes
# (.gpu/: CLI binaries built here, since that machine has no cargo; the data; Vulkan's loader;
# this script; PyTorch's reference step). Stages, while the time budget lasts:
#
#   check   each binary: `breastmnist check` against flex on wgpu (and vulkan where built in);
#           an autotune build is used only once the autotune-checks build has passed here
#   bench   PyTorch's step time on the same GPU, then `breastmnist bench` on each binary's GPU
#           for small and resnet18 at batch 32 and 128, direct and gemm, each row's ratio to
#           PyTorch's
#   paper   the official recipe (ResNet-18, 100 epochs, batch 128) with the first binary whose
#           check passed (else the first trusted one), for seeds 0, 1, 2 while the budget lasts
#           and no seed fails; wall time and test AUC/ACC per seed
#
# `all` fits one device call: check; bench the builds without autotune, leaving SEED_S (default
# 200, a recipe seed on an H200 without fusion took 183-187 s) for the recipe's seed 0; seed 0;
# bench the autotune build (tuning takes a while); then seeds 1 and 2.
#
# Usage: bash .gpu/run.sh [check|bench|paper|all] (default all). BUDGET_S (default 540) is the
# seconds after which no new stage or seed starts. Everything is logged to $OUT/run.log (or
# .gpu/out when OUT is unset), with torch.txt and each seed's metrics JSON beside it. MODELS,
# BATCHES, BACKEND (every stage's; default: each build's GPUs to check, vulkan for a vulkan
# build's bench, else wgpu), CHECK_MODELS and CHECK_STEPS (check's; default tiny,c8 and 20)
# and PAPER (extra `train` flags) narrow it, e.g. for crates/cli's test of it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/out}
budget=${BUDGET_S:-540}
seed_s=${SEED_S:-200}
check_models=${CHECK_MODELS:-tiny,c8}
check_steps=${CHECK_STEPS:-20}
models=${MODELS:-small,resnet18}
batches=${BATCHES:-32 128}
backend=${BACKEND:-}
stage=${1:-all}
case $stage in check | bench | paper | all) ;; *)
    echo "usage: run.sh [check|bench|paper|all]"
    exit 2
    ;;
esac
mkdir -p "$out"

# Vulkan's loader, where the machine lacks it (the device README's recipe).
if ! ldconfig -p | grep -q libvulkan.so.1 && compgen -G "$here/gl/*.deb" >/dev/null; then
    for f in "$here"/gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
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
# Plain builds first (the recipe's), then autotune-checks, whose check decides whether the
# autotune build after it is trusted.
rank() { case ${1##*/} in *autotune-checks*) echo 1 ;; *autotune*) echo 2 ;; *) echo 0 ;; esac; }
mapfile -t bins < <(for b in "${bins[@]}"; do echo "$(rank "$b") $b"; done | sort -s -k1,1n | cut -d' ' -f2-)
data=$here/breastmnist.npz
if [ ${#bins[@]} -eq 0 ] || [ ! -f "$data" ]; then
    echo "no binaries in $here/bin or no $data: run cargo xtask gpu-pack here and carry what it lists"
    exit 2
fi

# wgpu's OpenGL probe complains on every start without it.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}
passed= tuned= measured= stopped= last=$seed_s
started=$SECONDS
left() { echo $((budget - (SECONDS - started))); }
say() { printf '\n==> [%4ds] %s\n' $((SECONDS - started)) "$*"; }
backends_of() { # the GPU backends a binary has: wgpu always, vulkan if its name says so
    [ -n "$backend" ] && { echo "$backend"; return; }
    case ${1##*/} in *vulkan*) echo "wgpu vulkan" ;; *) echo "wgpu" ;; esac
}
# burn's autotune is trusted only after the autotune-checks build passed `check` in this run
# (every candidate kernel's output compared with a reference).
trusted() {
    case ${1##*/} in
    *autotune-checks*) return 1 ;;
    *autotune*) [ "$tuned" = yes ] || { echo "${1##*/}: skipped, no autotune-checks build passed check in this run"; return 1; } ;;
    esac
}
timed_backend_of() { # the one bench times: a vulkan build's wgpu runs the same SPIR-V
    case ${1##*/} in *vulkan*) echo "vulkan" ;; *) echo "wgpu" ;; esac
}

check() {
    for b in "${bins[@]}"; do
        for gpu in $(backends_of "$b"); do
            say "${b##*/}: check --backend $gpu"
            "$b" check --backend "$gpu" --models "$check_models" --steps "$check_steps" --conv direct,gemm
            status=$?
            echo "exit status $status"
            case ${b##*/} in
            *autotune-checks*) [ "$status" = 0 ] && [ "$tuned" != no ] && tuned=yes || tuned=no ;;
            *) # The recipe runs on the first binary whose wgpu (or BACKEND) backend passed.
                if [ "$status" = 0 ] && [ "$gpu" = "${backend:-wgpu}" ] && [ -z "$passed" ] && trusted "$b"; then passed=$b; fi ;;
            esac
        done
    done
}

bench() { # $1: plain (builds without autotune), tuned (the autotune ones) or both
    local which=${1:-both} reserve=0 largest=${models##*,} batch ref b gpu
    # The plain builds leave room for the recipe's seed 0, which `all` runs next.
    [ "$which" = plain ] && reserve=$seed_s
    if [ -z "$measured" ]; then
        say "PyTorch's step on this machine (the reference)"
        python3 "$here/torch_bench.py" --models "$models" --batches "${batches// /,}" --steps 20 | tee "$out/torch.txt"
        measured=yes
    fi
    for batch in $batches; do
        ref=$(awk -v m="$largest" -v b="b$batch" '$1 == "torch" && $2 == m && $3 == b { print $5 }' "$out/torch.txt")
        for b in "${bins[@]}"; do
            case $which:$(rank "$b") in plain:0 | tuned:2 | both:[02]) ;; *) continue ;; esac
            trusted "$b" || continue
            if [ "$(left)" -lt $((60 + reserve)) ]; then
                say "budget: $(left) s left, $which bench stops (keeping $reserve s for the recipe)"
                return
            fi
            gpu=${backend:-$(timed_backend_of "$b")}
            say "${b##*/}: bench --backends $gpu, batch $batch (last column: ms / PyTorch's $largest, ${ref:-not measured} ms)"
            "$b" bench --backends "$gpu" --models "$models" --batches "$batch" --steps 5 --conv direct,gemm \
                ${ref:+--reference-ms "$ref"}
            echo "exit status $?"
        done
    done
}

paper() { # $@: the seeds (default 0 1 2); a seed starts only if the last one's time fits
    local b=$passed seed t0 status dir candidate seeds=("$@")
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
    for seed in "${seeds[@]}"; do
        if [ "$(left)" -lt $((last + 30)) ]; then
            say "budget: $(left) s left and a seed takes about $last s: seed $seed not started"
            return
        fi
        say "${b##*/}: official recipe, seed $seed (train --preset paper --backend ${backend:-wgpu} ${PAPER:-})"
        dir=${TMPDIR:-/tmp}/breastmnist-paper-$seed
        rm -rf "$dir"
        t0=$SECONDS
        # shellcheck disable=SC2086 # PAPER holds several flags
        "$b" train --data "$data" --preset paper --backend "${backend:-wgpu}" --seed "$seed" --out "$dir" ${PAPER:-}
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
