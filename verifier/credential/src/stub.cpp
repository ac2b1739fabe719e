namespace attest {}
