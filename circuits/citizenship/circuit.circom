pragma circom 2.1.0;

// citizenship v1.0.0: the holder of an identity credential (MOHA, schema 1) in the issuer tree
// with public `root` is a citizen of Nepal (country code 524, ISO 3166-1 numeric), and the
// credential has not expired on the public date `today`.
//
// Public signals (snarkjs order): nullifier, root, binding, scope, today.
// The country is a constant of the circuit: it is hashed into the leaf as 524, so a credential
// with any other country hashes to a leaf that is not in the tree. birth_date stays private.
include "../lib/credential.circom";

template Citizenship(depth) {
    signal input root;
    signal input binding;
    signal input scope;
    signal input today;

    signal input secret;
    signal input birth_date;
    signal input expiry;
    signal input siblings[depth];
    signal input path_indices[depth];

    signal output nullifier;

    component commitment = HolderCommitment();
    commitment.secret <== secret;
    component leaf = IdentityLeaf();
    leaf.holderCommitment <== commitment.out;
    leaf.birthDate <== birth_date;
    leaf.country <== 524;
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

    nullifier <== frame.nullifier;
}

component main {public [root, binding, scope, today]} = Citizenship(20);
