// Compiles Solidity with solc-js (the pinned npm `solc`), resolving imports from node_modules
// (@openzeppelin/contracts, @safe-global/safe-contracts) and from the repository.
//   node scripts/chain/solc.mjs OUT.json FILE.sol [FILE.sol ...]
// writes {"<file>:<contract>": {abi, bytecode, deployedBytecode}} for every contract compiled.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function findImport(name) {
  for (const base of [path.join(root, 'node_modules'), root]) {
    const file = path.join(base, name);
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, 'utf8') };
  }
  return { error: `import not found: ${name}` };
}

/// sources: {name: content}. Returns {"<name>:<contract>": {abi, bytecode, deployedBytecode}};
/// throws with solc's messages on any error. Optimizer on (runs 200) unless told otherwise.
export function compile(sources, { optimizerRuns = 200, viaIR = false } = {}) {
  const solc = require('solc');
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, { content: v }])),
    settings: {
      optimizer: { enabled: true, runs: optimizerRuns },
      viaIR,
      evmVersion: 'cancun',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const result = {};
  for (const [file, contracts] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(contracts)) {
      result[`${file}:${name}`] = {
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      };
    }
  }
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [out, ...files] = process.argv.slice(2);
  if (!out || files.length === 0) {
    console.error('usage: node scripts/chain/solc.mjs OUT.json FILE.sol [FILE.sol ...]');
    process.exit(2);
  }
  const sources = Object.fromEntries(files.map((f) => [path.relative(root, path.resolve(f)), fs.readFileSync(f, 'utf8')]));
  fs.writeFileSync(out, JSON.stringify(compile(sources), null, 1) + '\n');
}
