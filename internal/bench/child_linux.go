package main

import "syscall"

// childAttr makes the kernel end a child with the bench, however the bench ends (even killed),
// so that no bare proxy outlives a run.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} }
