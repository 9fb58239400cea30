# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

dnl AX_PTHREAD_SIMPLE: -pthread for compiling and linking.
AC_DEFUN([AX_PTHREAD_SIMPLE], [
  PTHREAD_CFLAGS=-pthread
  PTHREAD_LIBS=-pthread
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])

dnl OVS_EXT_DEFAULT_OVS_DIR: prints the default pinned OVS build directory,
dnl using the same cache location as utilities/ovs-ext-setup.
AC_DEFUN([OVS_EXT_WITH_OVS], [
  ovs_ext_required_flags="--with-dpdk=shared"
  AC_ARG_WITH([ovs],
    [AS_HELP_STRING([--with-ovs=DIR],
      [pinned Open vSwitch 3.1.0 build tree (default: the cache of
       utilities/ovs-ext-setup)])],
    [OVS_DIR=$withval], [OVS_DIR=])
  if test -z "$OVS_DIR"; then
    OVS_DIR=`OVS_EXT_CACHE="$OVS_EXT_CACHE" $srcdir/utilities/ovs-ext-setup --print-ovs-dir --dry-run 2>/dev/null`
  fi
  AC_MSG_CHECKING([for the pinned OVS build tree])
  if test -z "$OVS_DIR" || test ! -d "$OVS_DIR"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([no OVS build tree found${OVS_DIR:+ at $OVS_DIR}.
Run utilities/ovs-ext-setup first (it installs the Debian packages and builds
OVS 3.1.0 into a cache), or point --with-ovs=DIR at an OVS 3.1.0 tree built
with $ovs_ext_required_flags.])
  fi
  OVS_DIR=`cd "$OVS_DIR" && pwd`
  AC_MSG_RESULT([$OVS_DIR])

  AC_MSG_CHECKING([how the OVS tree was built])
  if test ! -f "$OVS_DIR/.ovs-ext-build"; then
    AC_MSG_RESULT([unknown])
    AC_MSG_ERROR([$OVS_DIR has no .ovs-ext-build stamp: it is not a complete
build by utilities/ovs-ext-setup (interrupted?).  Run utilities/ovs-ext-setup.])
  fi
  OVS_BUILD_FLAGS=`sed -n 's/^flags=//p' "$OVS_DIR/.ovs-ext-build"`
  OVS_VERSION=`sed -n 's/^#define VERSION "\(.*\)"/\1/p' "$OVS_DIR/config.h"`
  AC_MSG_RESULT([OVS $OVS_VERSION with '$OVS_BUILD_FLAGS'])
  if test "$OVS_BUILD_FLAGS" != "$ovs_ext_required_flags"; then
    AC_MSG_ERROR([$OVS_DIR was built with '$OVS_BUILD_FLAGS' but ovs-ext needs
'$ovs_ext_required_flags' (the layout of struct dp_packet depends on it).
Rebuild with: OVS_EXT_OVS_FLAGS='$ovs_ext_required_flags' utilities/ovs-ext-setup])
  fi
  case $OVS_VERSION in
    3.1.0) ;;
    *) AC_MSG_ERROR([$OVS_DIR is OVS $OVS_VERSION, ovs-ext is pinned to 3.1.0]) ;;
  esac

  dnl ovs-ext carries patches on OVS (vswitchd-plugin/ovs-patches): the
  dnl tree must have been built with exactly the current series, whose
  dnl hash ovs-ext-setup writes into the stamp.
  AC_MSG_CHECKING([whether the OVS tree has ovs-ext's current patch series])
  ovs_ext_series=`$srcdir/utilities/ovs-ext-setup --print-series-hash 2>&1` \
    || AC_MSG_ERROR([cannot read the patch series: $ovs_ext_series])
  OVS_SERIES=`sed -n 's/^series=//p' "$OVS_DIR/.ovs-ext-build"`
  test -n "$OVS_SERIES" || OVS_SERIES=none
  if test "$OVS_SERIES" != "$ovs_ext_series"; then
    AC_MSG_RESULT([no])
    if test "$OVS_SERIES" = none; then
      ovs_ext_built="without ovs-ext's patches"
    else
      ovs_ext_built="with another patch series ($OVS_SERIES)"
    fi
    AC_MSG_ERROR([$OVS_DIR was built $ovs_ext_built,
but ovs-ext needs OVS built with its current patch series, $ovs_ext_series
(vswitchd-plugin/ovs-patches/series).  Run utilities/ovs-ext-setup: it builds
the patched OVS into a cache directory of its own; then run configure again
without --with-ovs (or with the directory that
"utilities/ovs-ext-setup --dry-run --print-ovs-dir" prints).])
  fi
  AC_MSG_RESULT([yes ($OVS_SERIES)])
  for f in lib/.libs/libopenvswitch.a ofproto/.libs/libofproto.a \
           lib/.libs/libsflow.a vswitchd/bridge.o vswitchd/system-stats.o \
           utilities/ovs-vsctl ovsdb/ovsdb-server tests/ovstest; do
    if test ! -f "$OVS_DIR/$f"; then
      AC_MSG_ERROR([$OVS_DIR/$f is missing: the OVS build is incomplete.
Run utilities/ovs-ext-setup again.])
    fi
  done

  dnl Compile OVS-facing code exactly as OVS compiles itself.
  ovs_mkvar() {
    sed -n "s/^$[]1 = *//p" "$OVS_DIR/Makefile" | head -n 1
  }
  OVS_CPPFLAGS="-I$OVS_DIR -I$OVS_DIR/include -I$OVS_DIR/lib -I$OVS_DIR/ofproto -I$OVS_DIR/vswitchd"
  OVS_CFLAGS=`ovs_mkvar OVS_CFLAGS`
  OVS_LIBADD="$OVS_DIR/ofproto/.libs/libofproto.a $OVS_DIR/lib/.libs/libsflow.a $OVS_DIR/lib/.libs/libopenvswitch.a"
  if test -f "$OVS_DIR/lib/.libs/libopenvswitchavx512.a"; then
    OVS_LIBADD="$OVS_LIBADD $OVS_DIR/lib/.libs/libopenvswitchavx512.a"
  fi
  OVS_LIBS="$OVS_LIBADD `ovs_mkvar SSL_LIBS` `ovs_mkvar CAPNG_LDADD` `ovs_mkvar LIBS`"
  OVS_VSWITCHD_LDFLAGS=`ovs_mkvar DPDK_vswitchd_LDFLAGS`
  AC_SUBST([OVS_DIR])
  AC_SUBST([OVS_VERSION])
  AC_SUBST([OVS_BUILD_FLAGS])
  AC_SUBST([OVS_SERIES])
  dnl A changed patch makes "make" run configure again, which then checks
  dnl the series against the OVS tree.
  AC_SUBST([CONFIG_STATUS_DEPENDENCIES],
    ['$(top_srcdir)/vswitchd-plugin/ovs-patches/series $(wildcard $(top_srcdir)/vswitchd-plugin/ovs-patches/*.patch)'])
  AC_SUBST([OVS_CPPFLAGS])
  AC_SUBST([OVS_CFLAGS])
  AC_SUBST([OVS_LIBADD])
  AC_SUBST([OVS_LIBS])
  AC_SUBST([OVS_VSWITCHD_LDFLAGS])
])

dnl OVS_EXT_ENABLE_SANITIZERS: --enable-asan builds our code with
dnl AddressSanitizer and UndefinedBehaviorSanitizer.
AC_DEFUN([OVS_EXT_ENABLE_SANITIZERS], [
  AC_ARG_ENABLE([asan],
    [AS_HELP_STRING([--enable-asan],
      [build with AddressSanitizer and UndefinedBehaviorSanitizer])],
    [], [enable_asan=no])
  SANITIZER_FLAGS=
  if test "$enable_asan" = yes; then
    SANITIZER_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  fi
  AC_SUBST([SANITIZER_FLAGS])
])

dnl OVS_EXT_ENABLE_WERROR: --enable-Werror turns warnings into errors.
AC_DEFUN([OVS_EXT_ENABLE_WERROR], [
  AC_ARG_ENABLE([Werror],
    [AS_HELP_STRING([--enable-Werror], [treat compiler warnings as errors])],
    [], [enable_Werror=no])
  WERROR=
  if test "$enable_Werror" = yes; then WERROR=-Werror; fi
  AC_SUBST([WERROR])
])

dnl OVS_EXT_WARNING_FLAGS: the warnings our own code is held to, for gcc and
dnl clang (clang adds -Wthread-safety for OVS's lock annotations).
AC_DEFUN([OVS_EXT_WARNING_FLAGS], [
  WARNING_FLAGS="-Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
-Wpointer-arith -Wformat -Wformat-security -Wstrict-prototypes \
-Wold-style-definition -Wmissing-prototypes -Wshadow"
  AC_MSG_CHECKING([whether $CC is clang])
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [[
#ifndef __clang__
#error not clang
#endif
]])], [cc_is_clang=yes], [cc_is_clang=no])
  AC_MSG_RESULT([$cc_is_clang])
  if test "$cc_is_clang" = yes; then
    WARNING_FLAGS="$WARNING_FLAGS -Wthread-safety"
  fi
  AC_SUBST([WARNING_FLAGS])
])

dnl OVS_EXT_DPDK: DPDK's compile and link flags (pkg-config libdpdk), for
dnl the vhost-user host sides (datapath/libesw-vhost.a) and the tests' and
dnl benchmarks' virtio_user guests.  The pinned OVS is built with DPDK, so
dnl libdpdk-dev is there.  -march is left out: ovs-ext is compiled as OVS
dnl is, with -mssse3.
AC_DEFUN([OVS_EXT_DPDK], [
  AC_MSG_CHECKING([for DPDK (pkg-config libdpdk)])
  DPDK_CFLAGS=`pkg-config --cflags libdpdk 2>/dev/null | sed 's/-march=[[^ ]]*//g'`
  DPDK_LIBS=`pkg-config --libs libdpdk 2>/dev/null`
  if test -z "$DPDK_LIBS"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([pkg-config finds no libdpdk: install libdpdk-dev (utilities/ovs-ext-setup does)])
  fi
  AC_MSG_RESULT([`pkg-config --modversion libdpdk`])
  AC_SUBST([DPDK_CFLAGS])
  AC_SUBST([DPDK_LIBS])
])
