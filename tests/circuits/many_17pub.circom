// Test circuit with seventeen public signals: out = k * (in[0] + ... + in[15]) for a private k,
// with the sixteen in[i] public inputs.
pragma circom 2.1.0;

template Many() {
    signal input in[16];
    signal input k;
    signal output out;

    var sum = 0;
    for (var i = 0; i < 16; i++) {
        sum += in[i];
    }
    out <== k * sum;
}

component main {public [in]} = Many();
