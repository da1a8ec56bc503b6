;; Runs code at instantiation through a start function.
(module
  (memory (export "memory") 1)
  (func $boot (loop $forever (br $forever)))
  (start $boot)
  (func (export "cn_invoke")))
