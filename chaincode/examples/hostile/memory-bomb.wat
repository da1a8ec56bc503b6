;; Grows linear memory by 1 MiB at a time until the host refuses.
(module
  (memory (export "memory") 1)
  (func (export "cn_invoke")
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))))
