module proofgate.dev/sdk

go 1.19
