# The install layout and the two Debian packages built from it.
#
# `cmake --install build --prefix /usr` (the units name /usr/bin, so /usr is
# the prefix they are written for; the packages use it) lays out:
#   bin/                      attestd (host); verifier, ledger, signer (verifier side)
#   lib/systemd/system/       attestd.service, attest-verifier.service
#   lib/sysusers.d/           the system users attestd and attest-verifier
#   lib/tmpfiles.d/           their state (and attestd's runtime) directories
#   share/doc/attest-host/    documents, examples/attestd.toml
#   share/doc/attest-verifier/  documents, examples/ (verifier.toml)
# Nothing goes to /etc: the example configurations are documents, the
# operator copies one to /etc/attestd/ or /etc/attest-verifier/, and the
# units start only once it is there (ConditionPathExists=).
#
# Two install components, one package each (`cpack -G DEB` in the build
# directory): `host` -> attest-host, `verifier` -> attest-verifier.
# scripts/check-packaging tests both (ctest label `packaging`).

set(ATTEST_SYSTEMD_UNIT_DIR "lib/systemd/system")
set(ATTEST_SYSUSERS_DIR "lib/sysusers.d")
set(ATTEST_TMPFILES_DIR "lib/tmpfiles.d")
set(ATTEST_HOST_DOC_DIR "${CMAKE_INSTALL_DATAROOTDIR}/doc/attest-host")
set(ATTEST_VERIFIER_DOC_DIR "${CMAKE_INSTALL_DATAROOTDIR}/doc/attest-verifier")

# attestd installs from its own folder (COMPONENT host), with its example
# here; a tree without the attestd target packages the unit and snippets
# only, and the packaging tests say they skipped its binary.
if(TARGET attestd)
  set(ATTEST_PACKAGE_HAS_ATTESTD 1)
else()
  set(ATTEST_PACKAGE_HAS_ATTESTD 0)
endif()
if(EXISTS "${PROJECT_SOURCE_DIR}/attestd/examples/attestd.toml")
  install(FILES attestd/examples/attestd.toml DESTINATION "${ATTEST_HOST_DOC_DIR}/examples"
          COMPONENT host)
endif()
install(FILES systemd/attestd.service DESTINATION ${ATTEST_SYSTEMD_UNIT_DIR} COMPONENT host)
install(FILES systemd/sysusers.d/attestd.conf DESTINATION ${ATTEST_SYSUSERS_DIR} COMPONENT host)
install(FILES systemd/tmpfiles.d/attestd.conf DESTINATION ${ATTEST_TMPFILES_DIR} COMPONENT host)

# verifier, ledger and signer install from their own folders (COMPONENT verifier).
install(FILES systemd/attest-verifier.service DESTINATION ${ATTEST_SYSTEMD_UNIT_DIR}
        COMPONENT verifier)
install(FILES systemd/sysusers.d/attest-verifier.conf DESTINATION ${ATTEST_SYSUSERS_DIR}
        COMPONENT verifier)
install(FILES systemd/tmpfiles.d/attest-verifier.conf DESTINATION ${ATTEST_TMPFILES_DIR}
        COMPONENT verifier)
install(DIRECTORY verifier/examples/ DESTINATION "${ATTEST_VERIFIER_DOC_DIR}/examples"
        COMPONENT verifier)

# The documents, in each package's doc folder: README.md, systemd/README.md,
# the byte-format pages next to their code (*/FORMAT.md, one or two folders
# deep) and docs/, laid out as in the source tree so their relative links hold.
file(GLOB _attest_format_documents CONFIGURE_DEPENDS RELATIVE "${PROJECT_SOURCE_DIR}"
     "${PROJECT_SOURCE_DIR}/*/FORMAT.md" "${PROJECT_SOURCE_DIR}/*/*/FORMAT.md")
foreach(_component_and_dir IN ITEMS "host;${ATTEST_HOST_DOC_DIR}"
                                    "verifier;${ATTEST_VERIFIER_DOC_DIR}")
  list(GET _component_and_dir 0 _component)
  list(GET _component_and_dir 1 _doc_dir)
  install(FILES README.md DESTINATION "${_doc_dir}" COMPONENT ${_component})
  install(FILES systemd/README.md DESTINATION "${_doc_dir}/systemd" COMPONENT ${_component})
  foreach(_document IN LISTS _attest_format_documents)
    get_filename_component(_folder "${_document}" DIRECTORY)
    string(REGEX REPLACE "/.*" "" _top_folder "${_folder}")
    if(NOT EXISTS "${PROJECT_SOURCE_DIR}/${_top_folder}/CMakeCache.txt")  # not a build tree
      install(FILES "${_document}" DESTINATION "${_doc_dir}/${_folder}" COMPONENT ${_component})
    endif()
  endforeach()
  if(IS_DIRECTORY "${PROJECT_SOURCE_DIR}/docs")
    install(DIRECTORY docs/ DESTINATION "${_doc_dir}/docs" COMPONENT ${_component})
  endif()
endforeach()

# The packages. Depends: what dpkg-shlibdeps finds the binaries link, and
# what they use without linking it: the TCTI attestd's loader opens (device),
# the group `tss` of /dev/tpmrm0 (tpm-udev), systemd-sysusers and
# systemd-tmpfiles for the maintainer scripts. The tpm2 OpenSSL provider is
# what workloads use the TPM-resident node key through.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME attest)
set(CPACK_PACKAGE_VENDOR "attest")
set(CPACK_PACKAGE_CONTACT "attest maintainers <root@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL host verifier)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(_attest_debian_dir "${PROJECT_SOURCE_DIR}/packaging/debian")

set(CPACK_DEBIAN_HOST_PACKAGE_NAME attest-host)
string(CONCAT CPACK_COMPONENT_HOST_DESCRIPTION
       "attestd: TPM attestation daemon of a host\n"
       "Keeps this host attested to an attest verifier and holds its node\n"
       "certificate (TPM-resident key). systemd unit, user and directories included.\n"
       "The service starts once /etc/attestd/attestd.toml exists.")
set(CPACK_DEBIAN_HOST_PACKAGE_DEPENDS
    "systemd, tpm-udev, libtss2-tcti-device0")
set(CPACK_DEBIAN_HOST_PACKAGE_RECOMMENDS "tpm2-openssl")
set(CPACK_DEBIAN_HOST_PACKAGE_CONTROL_EXTRA
    "${_attest_debian_dir}/attest-host/postinst;${_attest_debian_dir}/attest-host/prerm;${_attest_debian_dir}/attest-host/postrm")

set(CPACK_DEBIAN_VERIFIER_PACKAGE_NAME attest-verifier)
string(CONCAT CPACK_COMPONENT_VERIFIER_DESCRIPTION
    "attest verifier service, ledger and signer\n"
    "The verifier service (attestation, node certificates, CRL), the ledger and\n"
    "signer tools. systemd unit, user and state directory included. The service\n"
    "starts once /etc/attest-verifier/verifier.toml exists.")
set(CPACK_DEBIAN_VERIFIER_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_VERIFIER_PACKAGE_CONTROL_EXTRA
    "${_attest_debian_dir}/attest-verifier/postinst;${_attest_debian_dir}/attest-verifier/prerm;${_attest_debian_dir}/attest-verifier/postrm")
include(CPack)

if(ATTEST_BUILD_TESTS)
  # The units (offline: no systemd as PID 1 needed), the install layout and
  # the packages. In the release step of ./run-tests only (label packaging).
  add_test(NAME Packaging.UnitExposure
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-packaging exposure ${PROJECT_SOURCE_DIR}
                   ${PROJECT_BINARY_DIR} ${ATTEST_PACKAGE_HAS_ATTESTD})
  add_test(NAME Packaging.InstallAndVerifyUnits
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-packaging install ${PROJECT_SOURCE_DIR}
                   ${PROJECT_BINARY_DIR} ${ATTEST_PACKAGE_HAS_ATTESTD})
  add_test(NAME Packaging.DebianPackages
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-packaging deb ${PROJECT_SOURCE_DIR}
                   ${PROJECT_BINARY_DIR} ${ATTEST_PACKAGE_HAS_ATTESTD})
  set_tests_properties(Packaging.UnitExposure Packaging.InstallAndVerifyUnits
                       Packaging.DebianPackages
                       PROPERTIES LABELS packaging SKIP_RETURN_CODE 77)
endif()
