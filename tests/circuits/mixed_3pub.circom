// Test circuit with three public signals, an output then two public inputs:
// [commitment, threshold, binding] where commitment = value * salt + threshold and value >= 1
// is shown by a private inverse; binding is only carried along (bound by the proving key).
pragma circom 2.1.0;

template Mixed() {
    signal input threshold;
    signal input binding;
    signal input value;
    signal input salt;
    signal output commitment;
    signal value_inv;

    value_inv <-- 1 / value;
    value_inv * value === 1;
    commitment <== value * salt + threshold;
}

component main {public [threshold, binding]} = Mixed();
