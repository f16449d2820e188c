pragma circom 2.1.0;

// Shared templates for proofgate's claim circuits: the credential leaf per schema, inclusion in
// an issuer's Poseidon Merkle tree, range-checked comparisons, the nullifier and the binding.
// The credential model is stated in docs/protocol.md; every template below states its contract.
//
// Public signal order (what snarkjs writes in public.json and the manifests list): the outputs,
// then the public inputs in the order the main template DECLARES them, not the order of the
// `public [...]` list (checked with circom 2.2.3: `public [c, a]` on inputs declared a, b, c gives
// o, a, c). The claim circuits declare them in the list's order so both agree.
//
// Include paths: compile with `-l node_modules/circomlib/circuits` from the repository root
// (scripts/build-circuits.mjs does).

include "poseidon.circom";
include "comparators.circom";
include "bitify.circom";

// Issuer ids and schema ids (docs/protocol.md). A circuit fixes both as constants, so a leaf from
// another issuer or schema hashes to a different value and is never found in the tree.
function ISSUER_MOHA() { return 1; }
function ISSUER_TU() { return 2; }
function ISSUER_NRB_IRD() { return 3; }
function SCHEMA_IDENTITY() { return 1; }
function SCHEMA_EDUCATION() { return 2; }
function SCHEMA_INCOME() { return 3; }

// Bit widths of the compared quantities. A yyyymmdd date is below 10^8 < 2^27 for every year
// below 10000; 25 bits (< 33554432) covers every date up to 3355-12-31, far past any credential.
function DATE_BITS() { return 25; }
// Annual incomes in NPR (whole rupees) and thresholds: 64 bits.
function AMOUNT_BITS() { return 64; }
// Degree levels (a small scale, docs/protocol.md): 8 bits.
function LEVEL_BITS() { return 8; }

// Holder commitment: Poseidon([s]). `s` is the holder secret kept in the wallet.
template HolderCommitment() {
    signal input secret;
    signal output out;
    component h = Poseidon(1);
    h.inputs[0] <== secret;
    out <== h.out;
}

// Credential leaf: Poseidon([issuer_id, schema_id, holder_commitment, attr_1..attr_k, expiry]).
// k = nAttrs; issuer_id and schema_id are template parameters (constants of the circuit).
template LeafHash(issuerId, schemaId, nAttrs) {
    signal input holderCommitment;
    signal input attrs[nAttrs];
    signal input expiry;
    signal output out;
    component h = Poseidon(nAttrs + 4);
    h.inputs[0] <== issuerId;
    h.inputs[1] <== schemaId;
    h.inputs[2] <== holderCommitment;
    for (var i = 0; i < nAttrs; i++) {
        h.inputs[3 + i] <== attrs[i];
    }
    h.inputs[3 + nAttrs] <== expiry;
    out <== h.out;
}

// Identity (MOHA, schema 1): attrs [birth_date, country].
template IdentityLeaf() {
    signal input holderCommitment;
    signal input birthDate;
    signal input country;
    signal input expiry;
    signal output out;
    component h = LeafHash(ISSUER_MOHA(), SCHEMA_IDENTITY(), 2);
    h.holderCommitment <== holderCommitment;
    h.attrs[0] <== birthDate;
    h.attrs[1] <== country;
    h.expiry <== expiry;
    out <== h.out;
}

// Education (TU, schema 2): attrs [degree_level, graduation_year, institution_id].
template EducationLeaf() {
    signal input holderCommitment;
    signal input degreeLevel;
    signal input graduationYear;
    signal input institutionId;
    signal input expiry;
    signal output out;
    component h = LeafHash(ISSUER_TU(), SCHEMA_EDUCATION(), 3);
    h.holderCommitment <== holderCommitment;
    h.attrs[0] <== degreeLevel;
    h.attrs[1] <== graduationYear;
    h.attrs[2] <== institutionId;
    h.expiry <== expiry;
    out <== h.out;
}

// Income (NRB/IRD, schema 3): attrs [annual_income_npr, fiscal_year].
template IncomeLeaf() {
    signal input holderCommitment;
    signal input annualIncome;
    signal input fiscalYear;
    signal input expiry;
    signal output out;
    component h = LeafHash(ISSUER_NRB_IRD(), SCHEMA_INCOME(), 2);
    h.holderCommitment <== holderCommitment;
    h.attrs[0] <== annualIncome;
    h.attrs[1] <== fiscalYear;
    h.expiry <== expiry;
    out <== h.out;
}

// Root of the binary Poseidon Merkle tree of the given depth that holds `leaf` at the position
// given by `pathIndices` (bit i = 0: the current node is the left child at level i, counted from
// the leaves), with `siblings[i]` the other child. node = Poseidon([left, right]).
// Every direction bit is constrained to {0, 1}; one multiplication per level selects the order.
template MerkleRoot(depth) {
    signal input leaf;
    signal input siblings[depth];
    signal input pathIndices[depth];
    signal output root;

    signal cur[depth + 1];
    signal swap[depth];
    component h[depth];
    cur[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        pathIndices[i] * (1 - pathIndices[i]) === 0;
        // swap = idx * (sibling - cur): left = cur + swap, right = sibling - swap.
        swap[i] <== pathIndices[i] * (siblings[i] - cur[i]);
        h[i] = Poseidon(2);
        h[i].inputs[0] <== cur[i] + swap[i];
        h[i].inputs[1] <== siblings[i] - swap[i];
        cur[i + 1] <== h[i].out;
    }
    root <== cur[depth];
}

// Constrains Merkle inclusion: MerkleRoot(leaf, path) === root.
template MerkleInclusion(depth) {
    signal input leaf;
    signal input root;
    signal input siblings[depth];
    signal input pathIndices[depth];
    component m = MerkleRoot(depth);
    m.leaf <== leaf;
    for (var i = 0; i < depth; i++) {
        m.siblings[i] <== siblings[i];
        m.pathIndices[i] <== pathIndices[i];
    }
    m.root === root;
}

// Constrains `a` to [0, 2^bits).
template AssertBits(bits) {
    signal input a;
    component r = Num2Bits(bits);
    r.in <== a;
}

// Constrains a <= b. Precondition (the caller's job, with AssertBits, once per value): a and b
// are constrained to [0, 2^bits). circomlib's LessEqThan(n) is only sound for inputs below 2^n;
// a value near the field modulus would otherwise wrap around and pass.
template AssertLessEq(bits) {
    signal input a;
    signal input b;
    component le = LessEqThan(bits);
    le.in[0] <== a;
    le.in[1] <== b;
    le.out === 1;
}

// nullifier = Poseidon([s, scope]): one stable pseudonym per holder per scope (per partner).
template Nullifier() {
    signal input secret;
    signal input scope;
    signal output out;
    component h = Poseidon(2);
    h.inputs[0] <== secret;
    h.inputs[1] <== scope;
    out <== h.out;
}

// Puts the public `binding` into a constraint of its own (binding * binding = square, with the
// square an internal signal), so the optimiser keeps it in the constraint system and the proof
// commits to it. snarkjs's setup also adds an `x * 0 = 0` row per public input, so IC[binding]
// is never the identity; this constraint makes that independent of the setup tool.
// tests/circuits-claims checks that the key's IC point for binding is not the identity.
template BindingCommit() {
    signal input binding;
    signal square;
    square <== binding * binding;
}

// What every claim circuit proves besides its predicate, for a credential `leaf` of the holder:
//   - the prover knows the holder secret: the caller hashes HolderCommitment(secret) into the
//     leaf it passes here (circom cannot feed an output of this template back into its input),
//   - the leaf is in the issuer tree with the public `root` (depth `depth`),
//   - the credential has not expired: today <= expiry (both range-checked to DATE_BITS bits;
//     today is left range-checked for the caller's own comparisons),
//   - `binding` is committed to (BindingCommit),
//   - nullifier = Poseidon([secret, scope]).
template ClaimFrame(depth) {
    signal input secret;
    signal input root;
    signal input binding;
    signal input scope;
    signal input today;
    signal input expiry;
    signal input leaf;
    signal input siblings[depth];
    signal input pathIndices[depth];
    signal output nullifier;

    component inclusion = MerkleInclusion(depth);
    inclusion.leaf <== leaf;
    inclusion.root <== root;
    for (var i = 0; i < depth; i++) {
        inclusion.siblings[i] <== siblings[i];
        inclusion.pathIndices[i] <== pathIndices[i];
    }

    component todayBits = AssertBits(DATE_BITS());
    todayBits.a <== today;
    component expiryBits = AssertBits(DATE_BITS());
    expiryBits.a <== expiry;
    component notExpired = AssertLessEq(DATE_BITS());
    notExpired.a <== today;
    notExpired.b <== expiry;

    component bind = BindingCommit();
    bind.binding <== binding;

    component nul = Nullifier();
    nul.secret <== secret;
    nul.scope <== scope;
    nullifier <== nul.out;
}
