#!/usr/bin/env bash
# Builds every chaincode package under chaincode/examples/ to
# wasm32-unknown-unknown and copies the .wasm files to an output directory.
#
#   scripts/build-chaincode.sh [--out DIR] [--check]
#
#   --out DIR   where to put <package>.wasm (default: $CRYPTANET_WASM_OUT or
#               $HOME/.cache/cryptanet/wasm-out)
#   --check     only report which toolchain would be used; exit 1 if none
#
# Toolchain: a rustup toolchain with the wasm32-unknown-unknown target if one
# is installed; otherwise Debian's rustc-web/cargo-web with rust-web-src,
# building core/alloc/std from source (-Zbuild-std) and linking with wasm-ld.
# Missing Debian packages are installed when run as root. Idempotent: cargo
# rebuilds only what changed; the copy is atomic per file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXAMPLES="$ROOT/chaincode/examples"
OUT="${CRYPTANET_WASM_OUT:-$HOME/.cache/cryptanet/wasm-out}"
WASM_TARGET_DIR="${CRYPTANET_WASM_TARGET_DIR:-$HOME/.cache/cryptanet/wasm-target}"
CHECK_ONLY=0
DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src lld)

while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) OUT="$2"; shift 2 ;;
        --check) CHECK_ONLY=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "build-chaincode: unknown argument $1" >&2; exit 2 ;;
    esac
done

# Settings of an enclosing cargo invocation (e.g. when a test runs this
# script) must not leak into the guest build.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTC RUSTC_WRAPPER \
      RUSTC_WORKSPACE_WRAPPER CARGO_TARGET_DIR CARGO_BUILD_TARGET RUSTDOC CARGO \
      CARGO_MANIFEST_DIR CARGO_PRIMARY_PACKAGE CARGO_MAKEFLAGS RUSTC_BOOTSTRAP

rustup_has_wasm() {
    command -v rustup >/dev/null 2>&1 &&
        rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'
}

debian_ready() {
    [[ -x /usr/bin/rustc && -x /usr/bin/cargo && -d /usr/lib/rustlib/src/rust/library/std ]] &&
        command -v wasm-ld >/dev/null 2>&1
}

install_debian() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "build-chaincode: no wasm32 toolchain. Install one of:" >&2
        echo "  rustup target add wasm32-unknown-unknown" >&2
        echo "  sudo apt-get install -y ${DEBIAN_PACKAGES[*]}" >&2
        exit 1
    fi
    echo "build-chaincode: installing ${DEBIAN_PACKAGES[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${DEBIAN_PACKAGES[@]}" >&2
}

if rustup_has_wasm; then
    TOOLCHAIN=rustup
elif debian_ready; then
    TOOLCHAIN=debian
elif [[ $CHECK_ONLY -eq 1 ]]; then
    echo "none"; exit 1
else
    install_debian
    debian_ready || { echo "build-chaincode: Debian toolchain still incomplete" >&2; exit 1; }
    TOOLCHAIN=debian
fi

if [[ $CHECK_ONLY -eq 1 ]]; then
    echo "$TOOLCHAIN"; exit 0
fi

build() { # <manifest>
    if [[ $TOOLCHAIN == rustup ]]; then
        cargo build --release --locked --target wasm32-unknown-unknown \
            --manifest-path "$1" --target-dir "$WASM_TARGET_DIR/rustup"
    else
        # mvp: the most conservative instruction set, for std rebuilt here too.
        RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
        RUSTFLAGS="-C linker=wasm-ld -C target-cpu=mvp" \
            /usr/bin/cargo build --release --locked --target wasm32-unknown-unknown \
            -Zbuild-std=std,panic_abort --manifest-path "$1" \
            --target-dir "$WASM_TARGET_DIR/debian"
    fi
}

mkdir -p "$OUT"
built=0
for manifest in "$EXAMPLES"/*/Cargo.toml; do
    [[ -f $manifest ]] || continue
    grep -q 'cdylib' "$manifest" || continue
    name="$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$manifest" | head -n1)"
    echo "build-chaincode: $name ($TOOLCHAIN toolchain)" >&2
    build "$manifest" >&2
    sub=$([[ $TOOLCHAIN == rustup ]] && echo rustup || echo debian)
    artifact="$WASM_TARGET_DIR/$sub/wasm32-unknown-unknown/release/${name//-/_}.wasm"
    [[ -f $artifact ]] || { echo "build-chaincode: $artifact missing" >&2; exit 1; }
    cp "$artifact" "$OUT/.$name.wasm.$$.tmp"
    mv "$OUT/.$name.wasm.$$.tmp" "$OUT/$name.wasm"
    echo "$OUT/$name.wasm"
    built=$((built + 1))
done
[[ $built -gt 0 ]] || { echo "build-chaincode: no chaincode under $EXAMPLES" >&2; exit 1; }
