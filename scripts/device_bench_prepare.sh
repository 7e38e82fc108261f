#!/usr/bin/env bash
# Prepares, on the development machine, what scripts/device_bench.sh needs on the device machine (issue 14
# item 5), in .devbench/ (ignored through .git/info/exclude; carried by the device tool's `carry`):
#   node.xz          this machine's Node binary (x86-64), compressed (the device image has no Node)
#   bench.mjs        src/bench/main.ts bundled by esbuild (WGSL `?raw` imports inlined), webgpu left external
#   node_modules/webgpu  the webgpu package with only its linux-x64 Dawn binary
#   stories260K.bin, tok512.bin   the built-in model (../shared is not carried)
# and the Vulkan loader packages in .gl/ as /work/.library/device/README.md says.
# Then, with the device tool: run(command="bash scripts/device_bench.sh", carry=[".devbench", ".gl"], timeout_s=540).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .devbench && mkdir -p .devbench/node_modules/webgpu/dist
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > .devbench/node.xz
W=node_modules/webgpu
cp $W/package.json .devbench/node_modules/webgpu/
for f in $(cd $W && ls *.js *.mjs *.cjs 2>/dev/null); do cp "$W/$f" .devbench/node_modules/webgpu/; done
cp -r $W/dist/linux-x64 .devbench/node_modules/webgpu/dist/
for f in $(cd $W/dist && ls *.js *.mjs *.cjs *.d.ts 2>/dev/null); do cp "$W/dist/$f" .devbench/node_modules/webgpu/dist/; done
cp ../shared/models/stories260K/stories260K.bin ../shared/models/stories260K/tok512.bin .devbench/
node scripts/device_bench_bundle.mjs
if [ ! -d .gl ]; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .devbench .gl
