"""PyTorch side of scripts/device_bench.sh (issue 14 item 5): the same work as the Node engine's benchmark,
in plain PyTorch eager f32 on the same GPU, printed as one JSON object.

  - matmul 4096^3 f32 with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False), GFLOP/s
  - decode tokens/s at batch 32 for a random-weight SmolLM2-135M (Llama shapes), eager loop with a KV cache
  - one GRPO step for a random-weight stories260K-shaped model with LoRA r=8 on q,k,v,o: generation
    (2 prompts x 8 generations, 16 new tokens, 32-token prompts), log-probs, GRPO loss, backward, AdamW on
    the LoRA weights; the shape of `npm run bench`'s grpo_step for stories260K
Not run by the session that wrote it (no GPU was lent); see docs/performance.md.
Usage: python3 scripts/device_bench_torch.py [--size 4096]
"""
import json, math, sys, time
import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device('cuda')
size = int(sys.argv[sys.argv.index('--size') + 1]) if '--size' in sys.argv else 4096


def timed(fn, warmup=3, reps=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps


def bench_matmul(n):
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    s = timed(lambda: torch.matmul(a, b))
    return {'shape': f'{n}x{n}x{n}', 'ms': s * 1e3, 'gflops': 2 * n ** 3 / s / 1e9}


class Llama:
    """A Llama-family decoder (RMSNorm, RoPE, GQA attention, SwiGLU), random weights, optional LoRA on q,k,v,o."""

    def __init__(self, dim, layers, heads, kv_heads, hidden, vocab, lora_r=0, theta=10000.0, seed=0):
        g = torch.Generator(device='cpu').manual_seed(seed)
        r = lambda *s: (torch.rand(*s, generator=g) * 2 - 1).mul_(0.04).to(dev)
        self.dim, self.heads, self.kv, self.hs = dim, heads, kv_heads, dim // heads
        self.emb = r(vocab, dim)
        self.L = []
        for _ in range(layers):
            l = {'wq': r(dim, dim), 'wk': r(kv_heads * self.hs, dim), 'wv': r(kv_heads * self.hs, dim), 'wo': r(dim, dim),
                 'w1': r(hidden, dim), 'w3': r(hidden, dim), 'w2': r(dim, hidden),
                 'n1': torch.ones(dim, device=dev), 'n2': torch.ones(dim, device=dev)}
            if lora_r:
                for p in ('q', 'k', 'v', 'o'):
                    out = l['w' + p].shape[0]
                    l['A' + p] = r(lora_r, dim).requires_grad_()
                    l['B' + p] = torch.zeros(out, lora_r, device=dev, requires_grad=True)
            self.L.append(l)
        self.norm = torch.ones(dim, device=dev)
        self.lora_scale = 16 / lora_r if lora_r else 0.0
        inv = 1.0 / theta ** (torch.arange(0, self.hs, 2, device=dev).float() / self.hs)
        t = torch.arange(4096, device=dev).float()
        f = torch.outer(t, inv)
        self.cos, self.sin = f.cos(), f.sin()

    def lora_params(self):
        return [l[k] for l in self.L for k in l if k[0] in 'AB']

    def proj(self, l, p, x):
        y = x @ l['w' + p].T
        if 'A' + p in l:
            y = y + self.lora_scale * ((x @ l['A' + p].T) @ l['B' + p].T)
        return y

    def rope(self, x, pos):  # x (B, T, H, hs), pos (T,)
        c, s = self.cos[pos][None, :, None, :], self.sin[pos][None, :, None, :]
        x1, x2 = x[..., : self.hs // 2], x[..., self.hs // 2:]
        return torch.cat([x1 * c - x2 * s, x1 * s + x2 * c], -1)

    def forward(self, ids, cache=None, start=0):
        """ids (B, T) -> logits (B, T, V); cache: list of (k, v) per layer, appended to."""
        B, T = ids.shape
        x = self.emb[ids]
        pos = torch.arange(start, start + T, device=dev)
        for i, l in enumerate(self.L):
            h = F.rms_norm(x, (self.dim,), l['n1'], 1e-5)
            q = self.rope(self.proj(l, 'q', h).view(B, T, self.heads, self.hs), pos)
            k = self.rope(self.proj(l, 'k', h).view(B, T, self.kv, self.hs), pos)
            v = self.proj(l, 'v', h).view(B, T, self.kv, self.hs)
            if cache is not None:
                if len(cache) > i:
                    k = torch.cat([cache[i][0], k], 1)
                    v = torch.cat([cache[i][1], v], 1)
                    cache[i] = (k, v)
                else:
                    cache.append((k, v))
            rep = self.heads // self.kv
            kk = k.repeat_interleave(rep, 2).transpose(1, 2)
            vv = v.repeat_interleave(rep, 2).transpose(1, 2)
            att = F.scaled_dot_product_attention(q.transpose(1, 2), kk, vv, is_causal=(T > 1 and start == 0))
            x = x + self.proj(l, 'o', att.transpose(1, 2).reshape(B, T, self.dim))
            h = F.rms_norm(x, (self.dim,), l['n2'], 1e-5)
            x = x + (F.silu(h @ l['w1'].T) * (h @ l['w3'].T)) @ l['w2'].T
        return F.rms_norm(x, (self.dim,), self.norm, 1e-5) @ self.emb.T


@torch.no_grad()
def generate(m, prompt, new_tokens):
    cache = []
    logits = m.forward(prompt, cache, 0)
    out = []
    for t in range(new_tokens):
        tok = torch.multinomial(F.softmax(logits[:, -1], -1), 1)
        out.append(tok)
        logits = m.forward(tok, cache, prompt.shape[1] + t)
    return torch.cat(out, 1)


def bench_decode(batch=32, prompt_len=32, steps=32):
    m = Llama(576, 30, 9, 3, 1536, 49152, theta=100000.0)
    prompt = torch.randint(0, 49152, (batch, prompt_len), device=dev)
    generate(m, prompt, 4)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    generate(m, prompt, steps)
    torch.cuda.synchronize()
    s = time.perf_counter() - t0
    return {'model': 'SmolLM2-135M (random init)', 'batch': batch, 'prompt_len': prompt_len, 'new_tokens': steps,
            'decode_tokens_per_s': batch * steps / s}


def bench_grpo_step(prompts=2, gens=8, prompt_len=32, new_tokens=16):
    m = Llama(64, 5, 8, 4, 172, 512, lora_r=8)
    opt = torch.optim.AdamW(m.lora_params(), lr=3e-3, weight_decay=0.0)
    def step():
        t = {}
        t0 = time.perf_counter()
        prompt = torch.randint(0, 512, (prompts, prompt_len), device=dev).repeat_interleave(gens, 0)
        comp = generate(m, prompt, new_tokens)
        torch.cuda.synchronize(); t['generation'] = time.perf_counter() - t0
        rewards = (comp == 3).float().sum(1)  # any reward: the timing does not depend on it
        g = rewards.view(prompts, gens)
        adv = ((g - g.mean(1, keepdim=True)) / (g.std(1, keepdim=True) + 1e-4)).view(-1)
        ids = torch.cat([prompt, comp], 1)
        t1 = time.perf_counter()
        logits = m.forward(ids[:, :-1])[:, prompt_len - 1:]
        logp = torch.log_softmax(logits, -1).gather(-1, comp[..., None])[..., 0]
        ratio = torch.exp(logp - logp.detach())
        loss = -(torch.min(ratio * adv[:, None], ratio.clamp(0.8, 1.28) * adv[:, None])).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.lora_params(), 1.0)
        opt.step()
        torch.cuda.synchronize(); t['logprobs_backward_adamw'] = time.perf_counter() - t1
        t['step'] = time.perf_counter() - t0
        return t
    for _ in range(3):
        step()
    runs = [step() for _ in range(5)]
    return {'model': 'stories260K shapes (random init), LoRA r=8 q,k,v,o', 'shape': f'{prompts} prompts x {gens} generations, prompt {prompt_len}, {new_tokens} new tokens',
            'step_ms': 1e3 * sum(r['step'] for r in runs) / len(runs),
            'phases_ms': {k: 1e3 * sum(r[k] for r in runs) / len(runs) for k in runs[0] if k != 'step'}}


result = {'torch': torch.__version__, 'gpu': torch.cuda.get_device_name(0), 'tf32': False,
          'matmul': [bench_matmul(512), bench_matmul(size)], 'decode': bench_decode(), 'grpo_step': bench_grpo_step()}
print(json.dumps(result))
