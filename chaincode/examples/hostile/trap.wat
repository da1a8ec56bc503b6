;; Traps at once, as a panicking Rust chaincode does (panic = abort).
(module
  (memory (export "memory") 1)
  (func (export "cn_invoke")
    unreachable))
