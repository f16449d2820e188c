// Test circuit with no public signals: knowledge of a non-trivial factorisation of 221.
pragma circom 2.1.0;

template Factors() {
    signal input a;
    signal input b;
    signal a_minus_one_inv;
    signal b_minus_one_inv;

    a * b === 221;
    // Neither factor is 1: (a - 1) and (b - 1) have inverses.
    a_minus_one_inv <-- 1 / (a - 1);
    a_minus_one_inv * (a - 1) === 1;
    b_minus_one_inv <-- 1 / (b - 1);
    b_minus_one_inv * (b - 1) === 1;
}

component main = Factors();
