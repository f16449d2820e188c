// proofgate command line: the composition root.
#include <cstdio>
int main() { std::puts("proofgate"); return 0; }
