"""Logic domains: deduction (PrOntoQA / ProofWriter) with Z3 step checking."""
