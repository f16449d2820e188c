// Test circuit with one public signal (an output): y = x^3 + x + 5 for a private x.
pragma circom 2.1.0;

template Cube() {
    signal input x;
    signal output y;
    signal x2;

    x2 <== x * x;
    y <== x2 * x + x + 5;
}

component main = Cube();
