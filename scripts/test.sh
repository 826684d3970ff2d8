#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine, then runs every test:
# typecheck, unit + kernel tests (Vitest, WebGPU through Dawn in Node), the training
# recipes' Python self-tests (models/*/selftest.py), end-to-end tests (Playwright driving
# Chromium with WebGPU). Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Chromium: the browser for the end-to-end tests, and its SwiftShader Vulkan driver is what
# gives Dawn-in-Node an adapter on a machine without a GPU. A machine where Playwright's own
# browser is installed can set CHROMIUM_PATH instead.
# libvulkan1: the Vulkan loader (libvulkan.so.1) that Dawn-in-Node dlopens to reach that
# driver; chromium keeps its own copy off the loader path, so without this package every
# kernel test fails with "No WebGPU adapter".
# python3-pil, python3-numpy, python3-opencv and the emoji font: the fake-webcam video of
# synthetic scenes is rendered at test time by models/dataset/make_y4m.py.
# python3-torch, python3-torchvision, python3-onnx: the recipes' self-tests (npm run test:py)
# check the training code against hand-computed values and torchvision's own operators;
# Debian's builds are seen by /usr/bin/python3 only (scripts/test-py.sh uses it).
apt_packages=(libvulkan1 python3-pil python3-numpy python3-opencv fonts-noto-color-emoji
  python3-torch python3-torchvision python3-onnx)
[ -n "${CHROMIUM_PATH:-}" ] || apt_packages+=(chromium)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${missing[*]} — run: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# Every system piece the suite needs, checked by name before any test runs, so a missing
# one is one clear line here rather than dozens of failed tests.
bash scripts/preflight.sh

# Node packages, exactly as locked. Playwright must not try to download its own browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

npm test
