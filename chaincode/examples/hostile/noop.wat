;; Well-behaved minimal chaincode: answers 200 with an empty payload.
(module
  (import "cryptanet" "set_response"
    (func $set_response (param i32 i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "cn_invoke")
    (drop (call $set_response (i32.const 200) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))))
