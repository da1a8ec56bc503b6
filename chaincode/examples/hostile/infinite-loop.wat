;; Never returns: only fuel metering stops it.
(module
  (memory (export "memory") 1)
  (func (export "cn_invoke")
    (loop $forever (br $forever))))
