pragma circom 2.1.0;

// income_gte v1.0.0: the holder of an income credential (NRB/IRD, schema 3) in the issuer tree
// with public `root` had an annual income in NPR >= the public `threshold` in the public
// `fiscal_year`, and the credential has not expired on the public date `today`.
//
// Public signals (snarkjs order): nullifier, root, binding, scope, today, threshold, fiscal_year.
// fiscal_year is hashed into the leaf as the public signal itself, so a credential for another
// fiscal year is not in the tree: fiscal_year == the credential's fiscal year costs no constraint.
// annual_income_npr and threshold are range-checked to 64 bits (whole rupees).
include "../lib/credential.circom";

template IncomeGte(depth) {
    signal input root;
    signal input binding;
    signal input scope;
    signal input today;
    signal input threshold;
    signal input fiscal_year;

    signal input secret;
    signal input annual_income_npr;
    signal input expiry;
    signal input siblings[depth];
    signal input path_indices[depth];

    signal output nullifier;

    component commitment = HolderCommitment();
    commitment.secret <== secret;
    component leaf = IncomeLeaf();
    leaf.holderCommitment <== commitment.out;
    leaf.annualIncome <== annual_income_npr;
    leaf.fiscalYear <== fiscal_year;
    leaf.expiry <== expiry;

    component frame = ClaimFrame(depth);
    frame.secret <== secret;
    frame.root <== root;
    frame.binding <== binding;
    frame.scope <== scope;
    frame.today <== today;
    frame.expiry <== expiry;
    frame.leaf <== leaf.out;
    for (var i = 0; i < depth; i++) {
        frame.siblings[i] <== siblings[i];
        frame.pathIndices[i] <== path_indices[i];
    }

    component thresholdBits = AssertBits(AMOUNT_BITS());
    thresholdBits.a <== threshold;
    component incomeBits = AssertBits(AMOUNT_BITS());
    incomeBits.a <== annual_income_npr;
    component enough = AssertLessEq(AMOUNT_BITS());
    enough.a <== threshold;
    enough.b <== annual_income_npr;

    nullifier <== frame.nullifier;
}

component main {public [root, binding, scope, today, threshold, fiscal_year]} = IncomeGte(20);
