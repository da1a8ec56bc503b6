;; Asks the host to read a key far outside its 64 KiB memory.
(module
  (import "cryptanet" "get_state" (func $get_state (param i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "cn_invoke")
    (drop (call $get_state (i32.const 1048576) (i32.const 8)))))
