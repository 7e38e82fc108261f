#!/usr/bin/env node
// Makes sure the tests can reach WebGPU without a GPU: Debian's chromium package (the browser for the e2e
// tests, and the SwiftShader Vulkan driver that the Node tests use too) and the Vulkan loader (libvulkan1).
// As root, installs what is missing with apt-get; otherwise prints the command to run and exits 1.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const PACKAGES = ['chromium', 'libvulkan1'];

/** Whether the dynamic linker knows libvulkan.so.1 (ldconfig lives in /sbin, often not on a user's PATH). */
function hasVulkanLoader() {
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      const out = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return /\blibvulkan\.so\.1\b/.test(out);
    } catch {
      // try the next location
    }
  }
  // No ldconfig at all: look in the usual library directories.
  return ['/lib', '/usr/lib'].some((root) =>
    ['x86_64-linux-gnu', 'aarch64-linux-gnu', ''].some((arch) => existsSync(join(root, arch, 'libvulkan.so.1'))),
  );
}

function missing() {
  const out = [];
  if (!existsSync(CHROMIUM)) out.push(`${CHROMIUM} (package chromium)`);
  if (!existsSync(SWIFTSHADER_ICD)) out.push(`${SWIFTSHADER_ICD} (package chromium)`);
  if (!hasVulkanLoader()) out.push('libvulkan.so.1 (package libvulkan1)');
  return out;
}

function run(command, args, env) {
  console.log(`$ ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`ensure-chromium: "${command} ${args.join(' ')}" failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

const absent = missing();
if (absent.length === 0) {
  console.log(`ensure-chromium: ${CHROMIUM}, the SwiftShader Vulkan driver and libvulkan.so.1 are installed`);
  process.exit(0);
}

console.log(`ensure-chromium: missing ${absent.join(', ')}`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
  console.error(
    'ensure-chromium: the tests expect a Debian-like Linux with apt-get, where they use the chromium and libvulkan1 packages.',
  );
  process.exit(1);
}
if (!isRoot) {
  console.error(`ensure-chromium: install them with:\n  sudo apt-get install -y ${PACKAGES.join(' ')}`);
  process.exit(1);
}

run('apt-get', ['update']);
run('apt-get', ['install', '-y', ...PACKAGES], { DEBIAN_FRONTEND: 'noninteractive' });

const still = missing();
if (still.length > 0) {
  console.error(`ensure-chromium: still missing after apt-get install: ${still.join(', ')}`);
  process.exit(1);
}
console.log('ensure-chromium: installed chromium and libvulkan1');
