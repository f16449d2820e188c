// Writes tests/vectors/poseidon_circomlibjs.json: Poseidon vectors for 1..16 inputs from
// circomlibjs (three implementations that must agree: buildPoseidon (wasm), buildPoseidonOpt,
// buildPoseidonReference), each also checked against the witness of circomlib's Poseidon(n)
// circuit compiled with circom2 and computed by snarkjs; plus circomlib's own published vectors.
// Deterministic: the "random" inputs come from SHA-256 of a fixed label.
//
// Usage (from anywhere): node tests/vectors/gen-poseidon-vectors.mjs [OUTPUT]
// OUTPUT defaults to tests/vectors/poseidon_circomlibjs.json. Takes about a minute (16 circuits).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { buildPoseidon, buildPoseidonOpt, buildPoseidonReference } from "circomlibjs";
import * as snarkjs from "snarkjs";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
process.chdir(repoRoot);  // circom2 (WASI) only sees paths below the working directory's parents
const version = (name) =>
  JSON.parse(readFileSync(join(repoRoot, "node_modules", name, "package.json"), "utf8")).version;

const r = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

// circomlib 2.0.5 test/poseidoncircuit.js: outputs asserted there for Poseidon(2) and Poseidon(5).
const published = [
  { inputs: [1n, 2n], output: 7853200120776062878684798364095072458815029376092732009249414926327459813530n },
  { inputs: [3n, 4n], output: 14763215145315200506921711489642608356394854266165572616578112107564877678998n },
  { inputs: [1n, 2n, 0n, 0n, 0n], output: 1018317224307729531995786483840663576608797660851238720571059489595066344487n },
  { inputs: [3n, 4n, 5n, 10n, 23n], output: 13034429309846638789535561449942021891039729847501137143363028890275222221409n },
];

function randomElement(label) {
  const h = createHash("sha256").update(`proofgate poseidon vectors/${label}`).digest("hex");
  return BigInt("0x" + h) % r;
}

function inputSets(n) {
  const range = (f) => Array.from({ length: n }, (_, i) => f(i));
  return [
    ["zeros", range(() => 0n)],
    ["small_integers", range((i) => BigInt(i + 1))],
    ["r_minus_1", range(() => r - 1n)],
    ["random_a", range((i) => randomElement(`${n}/a/${i}`))],
    ["random_b", range((i) => randomElement(`${n}/b/${i}`))],
    ["mixed_edges", range((i) => [0n, 1n, r - 1n, randomElement(`${n}/c/${i}`)][i % 4])],
  ];
}

const wasm = await buildPoseidon();
const opt = await buildPoseidonOpt();
const ref = await buildPoseidonReference();
const F = wasm.F;

function circomlibjsHash(inputs) {
  const a = F.toObject(wasm(inputs));
  const b = F.toObject(opt(inputs));
  const c = F.toObject(ref(inputs));
  if (a !== b || a !== c) throw new Error(`circomlibjs implementations disagree on [${inputs}]`);
  return a;
}

const work = mkdtempSync(join(tmpdir(), "poseidon-vectors-"));
const circom = join(repoRoot, "node_modules", "circom2", "cli.js");

function compileCircuit(n) {
  const src = join(work, `poseidon${n}.circom`);
  writeFileSync(src, `pragma circom 2.0.0;\ninclude "poseidon.circom";\ncomponent main = Poseidon(${n});\n`);
  execFileSync("node", [circom, relative(repoRoot, src), "--wasm", "-l", "node_modules/circomlib/circuits",
                        "-o", relative(repoRoot, work)], { stdio: ["ignore", "ignore", "inherit"] });
  return join(work, `poseidon${n}_js`, `poseidon${n}.wasm`);
}

async function circuitHash(wasmFile, inputs) {
  const wtns = join(work, "w.wtns");
  await snarkjs.wtns.calculate({ inputs }, wasmFile, wtns);
  const w = await snarkjs.wtns.exportJson(wtns);
  return w[1];  // witness[0] is the constant 1, witness[1] the output `out`
}

const vectors = [];
try {
  for (let n = 1; n <= 16; n++) {
    const circuit = compileCircuit(n);
    for (const [name, inputs] of inputSets(n)) {
      const output = circomlibjsHash(inputs);
      const fromCircuit = await circuitHash(circuit, inputs);
      if (fromCircuit !== output) throw new Error(`circuit Poseidon(${n}) disagrees on ${name}`);
      vectors.push({ n_inputs: n, name, inputs: inputs.map(String), output: String(output) });
    }
    process.stderr.write(`Poseidon(${n}) ok\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

for (const p of published) {
  if (circomlibjsHash(p.inputs) !== p.output) throw new Error(`published vector [${p.inputs}] fails`);
}

const doc = {
  source:
    `circomlibjs ${version("circomlibjs")} (buildPoseidon, buildPoseidonOpt and buildPoseidonReference agree), ` +
    `each vector also checked against the witness of circomlib ${version("circomlib")} circuits/poseidon.circom ` +
    `Poseidon(n_inputs) compiled with circom2 ${version("circom2")} and computed by snarkjs ${version("snarkjs")}; ` +
    "generated by tests/vectors/gen-poseidon-vectors.mjs",
  field_modulus: String(r),
  published_source: `circomlib ${version("circomlib")} test/poseidoncircuit.js`,
  published: published.map((p) => ({ inputs: p.inputs.map(String), output: String(p.output) })),
  vectors,
};

const target = process.argv[2] ?? join(repoRoot, "tests", "vectors", "poseidon_circomlibjs.json");
writeFileSync(target, JSON.stringify(doc, null, 1) + "\n");
process.exit(0);  // ffjavascript keeps worker threads alive
