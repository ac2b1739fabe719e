// Event type names as the TCG PC Client PFP spells them (§10.4.1).
#include "attest/verifier/event_log.h"

namespace attest::verifier {

std::string_view EventTypeName(std::uint32_t type) {
  switch (type) {
    case kEvPrebootCert:
      return "EV_PREBOOT_CERT";
    case kEvPostCode:
      return "EV_POST_CODE";
    case kEvUnused:
      return "EV_UNUSED";
    case kEvNoAction:
      return "EV_NO_ACTION";
    case kEvSeparator:
      return "EV_SEPARATOR";
    case kEvAction:
      return "EV_ACTION";
    case kEvEventTag:
      return "EV_EVENT_TAG";
    case kEvSCrtmContents:
      return "EV_S_CRTM_CONTENTS";
    case kEvSCrtmVersion:
      return "EV_S_CRTM_VERSION";
    case kEvCpuMicrocode:
      return "EV_CPU_MICROCODE";
    case kEvPlatformConfigFlags:
      return "EV_PLATFORM_CONFIG_FLAGS";
    case kEvTableOfDevices:
      return "EV_TABLE_OF_DEVICES";
    case kEvCompactHash:
      return "EV_COMPACT_HASH";
    case kEvIpl:
      return "EV_IPL";
    case kEvIplPartitionData:
      return "EV_IPL_PARTITION_DATA";
    case kEvNonhostCode:
      return "EV_NONHOST_CODE";
    case kEvNonhostConfig:
      return "EV_NONHOST_CONFIG";
    case kEvNonhostInfo:
      return "EV_NONHOST_INFO";
    case kEvOmitBootDeviceEvents:
      return "EV_OMIT_BOOT_DEVICE_EVENTS";
    case kEvPostCode2:
      return "EV_POST_CODE2";
    case kEvEfiEventBase:
      return "EV_EFI_EVENT_BASE";
    case kEvEfiVariableDriverConfig:
      return "EV_EFI_VARIABLE_DRIVER_CONFIG";
    case kEvEfiVariableBoot:
      return "EV_EFI_VARIABLE_BOOT";
    case kEvEfiBootServicesApplication:
      return "EV_EFI_BOOT_SERVICES_APPLICATION";
    case kEvEfiBootServicesDriver:
      return "EV_EFI_BOOT_SERVICES_DRIVER";
    case kEvEfiRuntimeServicesDriver:
      return "EV_EFI_RUNTIME_SERVICES_DRIVER";
    case kEvEfiGptEvent:
      return "EV_EFI_GPT_EVENT";
    case kEvEfiAction:
      return "EV_EFI_ACTION";
    case kEvEfiPlatformFirmwareBlob:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB";
    case kEvEfiHandoffTables:
      return "EV_EFI_HANDOFF_TABLES";
    case kEvEfiPlatformFirmwareBlob2:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
    case kEvEfiHandoffTables2:
      return "EV_EFI_HANDOFF_TABLES2";
    case kEvEfiVariableBoot2:
      return "EV_EFI_VARIABLE_BOOT2";
    case kEvEfiGptEvent2:
      return "EV_EFI_GPT_EVENT2";
    case kEvEfiHcrtmEvent:
      return "EV_EFI_HCRTM_EVENT";
    case kEvEfiVariableAuthority:
      return "EV_EFI_VARIABLE_AUTHORITY";
    case kEvEfiSpdmFirmwareBlob:
      return "EV_EFI_SPDM_FIRMWARE_BLOB";
    case kEvEfiSpdmFirmwareConfig:
      return "EV_EFI_SPDM_FIRMWARE_CONFIG";
    default:
      return "EV_UNKNOWN";
  }
}

}  // namespace attest::verifier
