;; Imports a function the host does not provide.
(module
  (import "env" "launch_missiles" (func $launch (param i32)))
  (memory (export "memory") 1)
  (func (export "cn_invoke")
    (call $launch (i32.const 1))))
