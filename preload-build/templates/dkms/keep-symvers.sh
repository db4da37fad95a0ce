#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# keep-symvers.sh KERNELVER ARCH: DKMS's POST_BUILD for the bpf-preload runtime,
# run in the build directory: keeps the runtime's Module.symvers beside the module
# DKMS built for KERNELVER, where object modules' DKMS trees link against it.
set -eu
cp Module.symvers "../$1/$2/Module.symvers"
