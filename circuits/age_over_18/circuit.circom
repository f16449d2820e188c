pragma circom 2.1.0;

// age_over_18 v1.0.0: the holder of an identity credential (MOHA, schema 1) in the issuer tree
// with public `root` was born at least 18 years before the public date `today`, and the
// credential has not expired on `today`.
//
// Public signals (snarkjs order): nullifier, root, binding, scope, today.
//
// "18 today" is exact in yyyymmdd arithmetic: a date y-m-d is the integer y*10000 + m*100 + d,
// and with 1 <= m <= 12, 1 <= d <= 31 the integer order is the calendar order. Adding 180000
// adds 18 to the year and keeps month and day, so birth_date + 180000 is the 18th birthday and
// `birth_date + 180000 <= today` holds from that day on, not one day earlier. A birth on 29
// February gives (y+18)-02-29; y+18 is not a leap year when y is (18 is not a multiple of 4), so
// that date does not exist, no real date lies between (y+18)-02-28 and (y+18)-03-01, and the
// holder is 18 from 1 March (the day after 28 February), the rule used by most legal systems for
// leaplings. No calendar arithmetic (month lengths, leap years) happens in the circuit.
include "../lib/credential.circom";

template AgeOver18(depth) {
    signal input root;
    signal input binding;
    signal input scope;
    signal input today;

    signal input secret;
    signal input birth_date;
    signal input country;
    signal input expiry;
    signal input siblings[depth];
    signal input path_indices[depth];

    signal output nullifier;

    component commitment = HolderCommitment();
    commitment.secret <== secret;
    component leaf = IdentityLeaf();
    leaf.holderCommitment <== commitment.out;
    leaf.birthDate <== birth_date;
    leaf.country <== country;
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

    // birth_date + 180000 <= today; today is range-checked by the frame.
    component adultBits = AssertBits(DATE_BITS());
    adultBits.a <== birth_date + 180000;
    component adult = AssertLessEq(DATE_BITS());
    adult.a <== birth_date + 180000;
    adult.b <== today;

    nullifier <== frame.nullifier;
}

component main {public [root, binding, scope, today]} = AgeOver18(20);
