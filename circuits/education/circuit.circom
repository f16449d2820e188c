pragma circom 2.1.0;

// education v1.0.0: the holder of an education credential (TU, schema 2) in the issuer tree with
// public `root` holds a degree of level >= the public `min_level`, and the credential has not
// expired on the public date `today`.
//
// Public signals (snarkjs order): nullifier, root, binding, scope, today, min_level.
// degree_level scale (docs/protocol.md): 1 SEE/SLC, 2 higher secondary (+2), 3 diploma,
// 4 bachelor, 5 master, 6 MPhil, 7 PhD. Levels and min_level are range-checked to 8 bits.
// graduation_year and institution_id stay private (they are only hashed into the leaf).
include "../lib/credential.circom";

template Education(depth) {
    signal input root;
    signal input binding;
    signal input scope;
    signal input today;
    signal input min_level;

    signal input secret;
    signal input degree_level;
    signal input graduation_year;
    signal input institution_id;
    signal input expiry;
    signal input siblings[depth];
    signal input path_indices[depth];

    signal output nullifier;

    component commitment = HolderCommitment();
    commitment.secret <== secret;
    component leaf = EducationLeaf();
    leaf.holderCommitment <== commitment.out;
    leaf.degreeLevel <== degree_level;
    leaf.graduationYear <== graduation_year;
    leaf.institutionId <== institution_id;
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

    component minBits = AssertBits(LEVEL_BITS());
    minBits.a <== min_level;
    component levelBits = AssertBits(LEVEL_BITS());
    levelBits.a <== degree_level;
    component enough = AssertLessEq(LEVEL_BITS());
    enough.a <== min_level;
    enough.b <== degree_level;

    nullifier <== frame.nullifier;
}

component main {public [root, binding, scope, today, min_level]} = Education(20);
