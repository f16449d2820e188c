// A real local EVM node for the on-chain tests and benchmarks: anvil from the pinned npm package
// (@foundry-rs/anvil-linux-amd64), on a free loopback port, stopped with the test.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const anvilBin = path.join(root, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');

// anvil's default development accounts come from the well-known test mnemonic
// ("test test ... junk"); their private keys are public and they hold test ether only.
export const devKeys = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
];

/// Starts anvil and resolves once it answers eth_chainId. `extraArgs` go to anvil as they are
/// (for example ['--block-time', '1']). The returned object's stop() kills it and waits.
export async function startAnvil(extraArgs = [], { timeoutMs = 60000 } = {}) {
  const child = spawn(anvilBin, ['--host', '127.0.0.1', '--port', '0', '--chain-id', '31337', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`anvil did not start within ${timeoutMs} ms:\n${out}${err}`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr.on('data', (d) => { err += d; });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited (${code ?? signal}) before listening:\n${out}${err}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      if (r.ok) break;
    } catch {
      // not accepting connections yet: anvil printed the address just before serving
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url,
    port,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
