#!/usr/bin/env bash
# Issue 14 item 5: the engine on a real GPU against PyTorch on the same GPU, in one run of at most ~8 minutes.
# Prepared by scripts/device_bench_prepare.sh (run it first, on the development machine), then run with the
# device tool: run(command="bash scripts/device_bench.sh", carry=[".devbench", ".gl"], timeout_s=540).
# Writes $OUT/engine.json (`npm run bench -- --json`'s format: kernels with every matmul variant, the
# 4096^3 cube in big_matmul, autotune choices, stories260K and SmolLM2-135M model numbers, the GRPO step),
# $OUT/qwen35.json (`--qwen35-device`: Qwen3.5-0.8B decode tokens/s and a GRPO step),
# $OUT/torch.json (scripts/device_bench_torch.py), $OUT/summary.json (the comparisons) and $OUT/log.
# Not yet run: the session that wrote it had no GPU lent.
set -uo pipefail
OUT=${OUT:-/tmp/device-bench-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log") 2>&1
cd "$(dirname "$0")/.."
start=$(date +%s)

# Vulkan loader (the device README's steps), and the NVIDIA driver's ICD
if ! ldconfig -p | grep -q libvulkan; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv || true

# Node (carried) and the bundled benchmark
xz -dc .devbench/node.xz > /tmp/node && chmod +x /tmp/node
/tmp/node --version
export GRPO_BENCH_STORIES=$PWD/.devbench/stories260K.bin
export GRPO_AUTOTUNE_CACHE=$OUT/autotune.json
# hardware adapter (the bench refuses llvmpipe/lavapipe; it says which adapter it got on stderr)
( cd .devbench && timeout 300 /tmp/node bench.mjs --json --matmul-size 4096 > "$OUT/engine.json" ) || echo "engine bench failed: rc $?"
echo "engine: $(( $(date +%s) - start )) s"

# Qwen3.5-0.8B (random init): prefill and decode tokens/s, and a real GRPO step (2 x 8 completions, prompt 64,
# completion 64, bf16 base) with its measured peak against the plan (`--qwen35-device`; checked on a software
# adapter with `npm run bench -- --json --qwen35-device --qwen35-layers 1`)
( cd .devbench && timeout 150 /tmp/node bench.mjs --json --qwen35-device > "$OUT/qwen35.json" ) || echo "qwen35 bench failed: rc $?"
echo "qwen35: $(( $(date +%s) - start )) s"

PYTHONUNBUFFERED=1 timeout 150 python3 scripts/device_bench_torch.py --size 4096 > "$OUT/torch.json" || echo "torch bench failed: rc $?"
echo "torch: $(( $(date +%s) - start )) s"

python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def load(n):
    try:
        return json.load(open(f'{out}/{n}'))
    except Exception as e:
        return {'error': str(e)}
e, t, q = load('engine.json'), load('torch.json'), load('qwen35.json')
PEAK = 66.9e3  # H200 f32 vector peak, GFLOP/s
big = (e.get('big_matmul') or {})
tm = (t.get('matmul') or [{}, {}])[-1]
smol = next((m for m in e.get('models', []) if m.get('model', '').startswith('SmolLM2')), {})
step = (e.get('grpo_step') or [{}])[0]
s = {
  'gpu': t.get('gpu'), 'adapter': e.get('adapter', {}).get('description'),
  'matmul_4096': {'ours_gflops': big.get('gflops'), 'ours_variant': big.get('name'), 'fraction_of_f32_peak': (big.get('gflops') or 0) / PEAK,
                  'torch_gflops_tf32_off': tm.get('gflops'), 'ours_over_torch': (big.get('gflops') or 0) / (tm.get('gflops') or float('inf'))},
  'decode_batch32_tokens_per_s': {'ours': smol.get('decode_tokens_per_s_batch32'), 'torch_eager': (t.get('decode') or {}).get('decode_tokens_per_s')},
  'grpo_step_ms': {'ours': step.get('step_ms'), 'torch_eager': (t.get('grpo_step') or {}).get('step_ms'),
                   'ours_over_torch': (step.get('step_ms') or 0) / ((t.get('grpo_step') or {}).get('step_ms') or float('inf'))},
  'qwen35_0.8b': (lambda m, r: {'decode_tokens_per_s_batch1': m.get('decode_tokens_per_s_batch1'),
                                 'decode_tokens_per_s_batch32': m.get('decode_tokens_per_s_batch32'),
                                 'prefill_tokens_per_s': m.get('prefill_tokens_per_s'), 'grpo_step_ms': r.get('step_ms'),
                                 'grpo_step_tokens_per_s': r.get('tokens_per_s'), 'grpo_step_shape': r.get('shape'),
                                 'measured_peak_bytes': r.get('measured_peak_bytes'), 'planned_peak_bytes': r.get('planned_peak_bytes'),
                                 'peak_equals_plan': r.get('measured_peak_bytes') is not None and r.get('measured_peak_bytes') == r.get('planned_peak_bytes'),
                                 'error': q.get('error')})((q.get('qwen35') or {}).get('model') or {}, (q.get('qwen35') or {}).get('real_step') or {}),
  'autotune': e.get('autotune'),
  'targets': {'matmul >= 40% of f32 peak': (big.get('gflops') or 0) >= 0.4 * PEAK,
              'GRPO step <= 3x torch eager': (step.get('step_ms') or 1e18) <= 3 * ((t.get('grpo_step') or {}).get('step_ms') or 0)},
}
json.dump(s, open(f'{out}/summary.json', 'w'), indent=1)
print(json.dumps(s, indent=1))
PY
echo "total: $(( $(date +%s) - start )) s"
