// Generates src/crypto/poseidon_constants.cpp: circomlib's optimized Poseidon constants (C, S, M,
// P for t = 2..17) as 4x64-bit little-endian limbs in Montgomery form (x * 2^256 mod r), read from
// the circomlibjs package in node_modules. Deterministic: the same package gives the same bytes.
//
// Usage (from the repository root): node scripts/gen-poseidon-constants.mjs [OUTPUT]
// OUTPUT defaults to src/crypto/poseidon_constants.cpp; "-" writes to standard output.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkgDir = join(repoRoot, "node_modules", "circomlibjs");
const constantsFile = "src/poseidon_constants_opt.json";

// BN254 scalar field order r (the field circom works in).
const r = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const kMontR = 1n << 256n;

// Partial rounds per width t = 2..17, from circomlib circuits/poseidon.circom (N_ROUNDS_P) and
// circomlibjs src/poseidon_opt.js; the lengths of the tables are checked against it below.
const kFullRounds = 8;
const kPartialRounds = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

function fail(msg) {
  process.stderr.write(`gen-poseidon-constants: ${msg}\n`);
  process.exit(1);
}

function parseElement(s, where) {
  if (typeof s !== "string" || !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(s)) fail(`${where}: not a number: ${s}`);
  const v = BigInt(s);
  if (v >= r) fail(`${where}: not below r: ${s}`);
  return v;
}

function hex64(v) {
  return "0x" + v.toString(16).padStart(16, "0");
}

function limbLine(v) {
  const m = (v * kMontR) % r;
  const mask = (1n << 64n) - 1n;
  const limbs = [0, 1, 2, 3].map((i) => hex64((m >> BigInt(64 * i)) & mask));
  return `    {${limbs.join(", ")}},`;
}

function emitArray(out, name, values, where) {
  out.push(`constexpr Limbs ${name}[${values.length}] = {`);
  values.forEach((s, i) => out.push(limbLine(parseElement(s, `${where}[${i}]`))));
  out.push("};");
}

function flattenMatrix(m, t, where) {
  if (!Array.isArray(m) || m.length !== t) fail(`${where}: expected ${t} rows`);
  return m.flatMap((row, j) => {
    if (!Array.isArray(row) || row.length !== t) fail(`${where}[${j}]: expected ${t} columns`);
    return row;
  });
}

const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const opt = JSON.parse(readFileSync(join(pkgDir, constantsFile), "utf8"));
for (const k of ["C", "S", "M", "P"]) {
  if (!Array.isArray(opt[k]) || opt[k].length !== kPartialRounds.length) {
    fail(`${constantsFile}: ${k} must list ${kPartialRounds.length} widths`);
  }
}

const out = [];
out.push(
  "// Poseidon constants for circomlib's Poseidon(1..16) (state width t = 2..17), in the optimized",
  "// form of circomlib circuits/poseidon.circom (round constants C, sparse partial-round matrices S,",
  "// MDS matrix M and pre-sparse matrix P). GENERATED FILE, do not edit.",
  "//",
  `// Source: npm package ${pkg.name} ${pkg.version}, ${constantsFile}`,
  "// (Grain LFSR parameters of eprint 2019/458, optimized as in filecoin-project/neptune).",
  "// Regenerate from the repository root with: node scripts/gen-poseidon-constants.mjs",
  "//",
  "// Each element is four little-endian 64-bit limbs in Montgomery form, x * 2^256 mod r, so it is",
  "// an Fr by Fr::from_montgomery. Matrices are row-major as in circomlib: m[j * t + i] = M[j][i].",
  "// clang-format off",
  '#include "crypto/poseidon_constants.hpp"',
  "",
  "namespace pg::crypto::detail {",
  "namespace {",
  "",
);

const entries = [];
kPartialRounds.forEach((nP, idx) => {
  const t = idx + 2;
  const where = (k) => `${constantsFile} ${k}[${idx}] (t=${t})`;
  const c = opt.C[idx], s = opt.S[idx];
  if (!Array.isArray(c) || c.length !== kFullRounds * t + nP) fail(`${where("C")}: expected ${kFullRounds * t + nP} entries`);
  if (!Array.isArray(s) || s.length !== nP * (2 * t - 1)) fail(`${where("S")}: expected ${nP * (2 * t - 1)} entries`);
  const m = flattenMatrix(opt.M[idx], t, where("M"));
  const p = flattenMatrix(opt.P[idx], t, where("P"));
  out.push(`// t = ${t}: ${nP} partial rounds.`);
  emitArray(out, `kC${t}`, c, where("C"));
  emitArray(out, `kS${t}`, s, where("S"));
  emitArray(out, `kM${t}`, m, where("M"));
  emitArray(out, `kP${t}`, p, where("P"));
  out.push("");
  entries.push(`    {${t}, ${nP}, kC${t}, kS${t}, kM${t}, kP${t}},`);
});

out.push(
  "}  // namespace",
  "",
  "const PoseidonParams kPoseidonParams[kPoseidonMaxInputs] = {",
  ...entries,
  "};",
  "",
  "}  // namespace pg::crypto::detail",
  "",
);

const text = out.join("\n");
const target = process.argv[2] ?? join(repoRoot, "src", "crypto", "poseidon_constants.cpp");
if (target === "-") {
  process.stdout.write(text);
} else {
  writeFileSync(target, text);
}
