#!/usr/bin/env bash
# Checks, by name, each system piece the test suite needs and says which one is missing
# and how to install it. Exit 0 when all are there. Usage: bash scripts/preflight.sh
set -uo pipefail

problems=()
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium" ] || problems+=("browser: $chromium not found (apt-get install chromium, or set CHROMIUM_PATH)")

icd="${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}"
[ -f "$icd" ] || problems+=("Vulkan driver for Dawn-in-Node: $icd not found (apt-get install chromium ships SwiftShader, or set VK_ICD_FILENAMES)")

# Dawn dlopens the loader by this exact soname. (grep reads the whole list: with -q it would
# stop at the first match, ldconfig would die of SIGPIPE, and pipefail would call it missing.)
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1 ' >/dev/null; then
  problems+=("Vulkan loader: libvulkan.so.1 is not on the loader path (apt-get install libvulkan1)")
fi

py=/usr/bin/python3
if [ ! -x "$py" ]; then
  problems+=("python: /usr/bin/python3 not found (apt-get install python3)")
else
  for mod in PIL numpy cv2; do
    "$py" -c "import $mod" 2>/dev/null || problems+=("python module $mod for /usr/bin/python3 (apt-get install python3-pil python3-numpy python3-opencv)")
  done
  # The recipes' self-tests (npm run test:py).
  for pair in torch:python3-torch torchvision:python3-torchvision onnx:python3-onnx; do
    mod=${pair%%:*} pkg=${pair#*:}
    "$py" -c "import $mod" 2>/dev/null || problems+=("python module $mod for /usr/bin/python3, for the recipe self-tests (apt-get install $pkg)")
  done
fi
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || problems+=("emoji font for the fake-webcam scenes (apt-get install fonts-noto-color-emoji)")

if [ ${#problems[@]} -gt 0 ]; then
  echo "The test suite cannot run; missing system pieces:" >&2
  for p in "${problems[@]}"; do echo "  - $p" >&2; done
  exit 1
fi
echo "preflight: browser, Vulkan loader + SwiftShader driver, python modules (incl. torch, torchvision, onnx) and font present"
