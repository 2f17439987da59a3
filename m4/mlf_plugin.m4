# MLF_PLUGIN_OPTION(NAME, DEFAULT, DESCRIPTION, [REQUIREMENT-MET=yes])
# collectd-style per-plugin switch: --enable-NAME / --disable-NAME, an automake conditional
# BUILD_PLUGIN_<NAME>, a line in the configure summary, and NAME added to MLF_BUILT_PLUGINS (used for the
# sample configuration). A plugin whose requirement is unmet is disabled with the reason shown.
AC_DEFUN([MLF_PLUGIN_OPTION], [
  m4_pushdef([mlf_uc], m4_translit([$1], [a-z-], [A-Z_]))
  AC_ARG_ENABLE([$1], [AS_HELP_STRING([--enable-$1], [$3 (default: $2)])],
                [enable_plugin_$1="$enableval"], [enable_plugin_$1="$2"])
  mlf_req_met="m4_default([$4], [yes])"
  mlf_plugin_why=""
  AS_IF([test "x$enable_plugin_$1" = "xyes" && test "x$mlf_req_met" != "xyes"],
        [enable_plugin_$1=no; mlf_plugin_why=" (dependency missing)"])
  AM_CONDITIONAL([BUILD_PLUGIN_]mlf_uc, [test "x$enable_plugin_$1" = "xyes"])
  AS_IF([test "x$enable_plugin_$1" = "xyes"], [MLF_BUILT_PLUGINS="$MLF_BUILT_PLUGINS $1"])
  MLF_PLUGIN_SUMMARY="$MLF_PLUGIN_SUMMARY
    m4_format([%-22s], [$1]) $enable_plugin_$1$mlf_plugin_why"
  m4_popdef([mlf_uc])
])

# MLF_REQUIRE_PKG(VAR, MODULES, DEBIAN-PACKAGE)
# pkg-config check that stops configure with the Debian package to install.
AC_DEFUN([MLF_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found by pkg-config. On Debian/Ubuntu: apt-get install $3 (or run scripts/bootstrap.sh deps)])])
])
