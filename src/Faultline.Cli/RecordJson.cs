using System.Text.Json;
using Faultline.Iommu.Amd;
using Faultline.Iommu.Smmuv3;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using Faultline.Userspace;

namespace Faultline.Cli;

/// <summary>
/// The JSON that <c>faultline decode</c> prints for each hardware or kernel record: the record's fields, under the
/// names the spec or uAPI gives them, as a JSON object whose "record" is the decode command's record name. Kept in the
/// command, not in the core, so the core's codecs carry no JSON writing; each method reads only the record's public
/// members.
/// </summary>
internal static class RecordJson
{
    /// <summary>Writes the fields as a JSON object whose "record" is "vtd-page-request" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this PageRequestDescriptor d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "vtd-page-request");
        json.WriteNumber("type", PageRequestDescriptor.Type);
        json.WriteBoolean("pasid_present", d.PasidPresent);
        json.WriteBoolean("private_data_present", d.PrivateDataPresent);
        json.WriteString("rid", $"0x{d.Requester.Value:x4}");
        json.WriteString("requester", d.Requester.ToString());
        json.WriteString("pasid", $"0x{d.Pasid.Value:x}");
        json.WriteBoolean("execute_requested", d.ExecuteRequested);
        json.WriteBoolean("privileged_mode_requested", d.PrivilegedModeRequested);
        json.WriteBoolean("read_requested", d.ReadRequested);
        json.WriteBoolean("write_requested", d.WriteRequested);
        json.WriteBoolean("lpig", d.LastPageInGroup);
        json.WriteNumber("prg_index", d.Index.Value);
        json.WriteString("page_address", $"0x{d.PageAddress:x}");
        json.WriteString("private_data", $"0x{d.PrivateData0:x16}/0x{d.PrivateData1:x16}");
        json.WriteBoolean("stop_marker", d.IsStopMarker);
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "vtd-page-group-response" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this PageGroupResponseDescriptor d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "vtd-page-group-response");
        json.WriteNumber("type", PageGroupResponseDescriptor.Type);
        json.WriteBoolean("pasid_present", d.PasidPresent);
        json.WriteBoolean("private_data_present", d.PrivateDataPresent);
        json.WriteNumber("response_code", (byte)d.Code);
        json.WriteString("response", d.Code.Name());
        json.WriteString("rid", $"0x{d.Requester.Value:x4}");
        json.WriteString("requester", d.Requester.ToString());
        json.WriteString("pasid", $"0x{d.Pasid.Value:x}");
        json.WriteBoolean("lpig", d.LastPageInGroup);
        json.WriteNumber("prg_index", d.Index.Value);
        json.WriteString("private_data", $"0x{d.PrivateData0:x16}/0x{d.PrivateData1:x16}");
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "vtd-invalidation-wait" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this InvalidationWaitDescriptor d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "vtd-invalidation-wait");
        json.WriteNumber("type", InvalidationWaitDescriptor.Type);
        json.WriteBoolean("interrupt_flag", d.InterruptFlag);
        json.WriteBoolean("status_write", d.StatusWrite);
        json.WriteBoolean("fence", d.Fence);
        json.WriteBoolean("page_request_drain", d.PageRequestDrain);
        json.WriteNumber("status_data", d.StatusData);
        json.WriteString("status_address", $"0x{d.StatusAddress:x}");
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "vtd-pasid-iotlb-invalidation" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this PasidIotlbInvalidationDescriptor d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "vtd-pasid-iotlb-invalidation");
        json.WriteNumber("type", PasidIotlbInvalidationDescriptor.Type);
        json.WriteNumber("granularity", (byte)d.Granularity);
        json.WriteString("granularity_name", d.Granularity switch
        {
            PasidIotlbGranularity.PasidSelective => "pasid-selective",
            PasidIotlbGranularity.PageSelectiveWithinPasid => "page-selective-within-pasid",
            _ => "reserved",
        });
        json.WriteNumber("domain_id", d.DomainId);
        json.WriteString("pasid", $"0x{d.Pasid.Value:x}");
        json.WriteString("address", $"0x{d.Address:x}");
        json.WriteNumber("address_mask", d.AddressMask);
        json.WriteBoolean("invalidation_hint", d.InvalidationHint);
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "vtd-pasid-devtlb-invalidation" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this PasidDeviceTlbInvalidationDescriptor d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "vtd-pasid-devtlb-invalidation");
        json.WriteNumber("type", PasidDeviceTlbInvalidationDescriptor.Type);
        json.WriteString("sid", $"0x{d.SourceId.Value:x4}");
        json.WriteString("source", d.SourceId.ToString());
        json.WriteString("pasid", $"0x{d.Pasid.Value:x}");
        json.WriteString("pfsid", $"0x{d.PhysicalFunctionSourceId.Value:x4}");
        json.WriteNumber("max_invs_pending", d.MaxInvalidationsPending);
        json.WriteBoolean("global", d.Global);
        json.WriteBoolean("size", d.SizeBit);
        json.WriteString("address", $"0x{d.Address:x}");
        json.WriteNumber("size_order", d.SizeOrder);
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "vtd-iotlb-invalidation" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this IotlbInvalidationDescriptor d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "vtd-iotlb-invalidation");
        json.WriteNumber("type", IotlbInvalidationDescriptor.Type);
        json.WriteNumber("granularity", (byte)d.Granularity);
        json.WriteString("granularity_name", d.Granularity.ToString());
        json.WriteBoolean("drain_reads", d.DrainReads);
        json.WriteBoolean("drain_writes", d.DrainWrites);
        json.WriteNumber("domain_id", d.DomainId);
        json.WriteString("address", $"0x{d.Address:x}");
        json.WriteNumber("address_mask", d.AddressMask);
        json.WriteBoolean("invalidation_hint", d.InvalidationHint);
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "vtd-devtlb-invalidation" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this DeviceTlbInvalidationDescriptor d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "vtd-devtlb-invalidation");
        json.WriteNumber("type", DeviceTlbInvalidationDescriptor.Type);
        json.WriteString("sid", $"0x{d.SourceId.Value:x4}");
        json.WriteString("source", d.SourceId.ToString());
        json.WriteString("pfsid", $"0x{d.PhysicalFunctionSourceId.Value:x4}");
        json.WriteNumber("max_invs_pending", d.MaxInvalidationsPending);
        json.WriteBoolean("size", d.SizeBit);
        json.WriteString("address", $"0x{d.Address:x}");
        json.WriteNumber("size_order", d.SizeOrder);
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "amd-ppr-entry" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this PprLogEntry d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "amd-ppr-entry");
        json.WriteNumber("type", d.RequestType);
        json.WriteBoolean("page_service_request", d.IsPageServiceRequest);
        json.WriteString("device_id", $"0x{d.DeviceId.Value:x4}");
        json.WriteString("device", d.DeviceId.ToString());
        json.WriteString("pasid", $"0x{d.Pasid.Value:x}");
        json.WriteString("tag", $"0x{d.Tag:x3}");
        json.WriteNumber("prg_index", d.PrgIndex.Value);
        json.WriteBoolean("last", d.Last);
        json.WriteBoolean("execute", d.ExecuteRequested);
        json.WriteBoolean("read", d.ReadRequested);
        json.WriteBoolean("write", d.WriteRequested);
        json.WriteBoolean("us", d.User);
        json.WriteBoolean("privileged", d.PrivilegedModeRequested);
        json.WriteBoolean("rvsd", d.Rvsd);
        json.WriteBoolean("gn", d.Gn);
        json.WriteString("page_address", $"0x{d.PageAddress:x}");
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "amd-complete-ppr" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this CompletePprRequestCommand d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "amd-complete-ppr");
        json.WriteNumber("opcode", CompletePprRequestCommand.Opcode);
        json.WriteString("device_id", $"0x{d.DeviceId.Value:x4}");
        json.WriteString("device", d.DeviceId.ToString());
        json.WriteString("pasid", $"0x{d.Pasid.Value:x}");
        json.WriteBoolean("gn", d.Gn);
        json.WriteNumber("prg_index", d.Index.Value);
        json.WriteNumber("status", (byte)d.Status);
        json.WriteString("response", d.Status.Name());
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "smmuv3-pri-entry" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this PriQueueEntry d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "smmuv3-pri-entry");
        json.WriteString("sid", $"0x{d.StreamId:x8}");
        json.WriteBoolean("ssv", d.SubstreamValid);
        json.WriteString("ssid", $"0x{d.SubstreamId.Value:x}");
        json.WriteBoolean("priv", d.Privileged);
        json.WriteBoolean("exec", d.Execute);
        json.WriteBoolean("read", d.Read);
        json.WriteBoolean("write", d.Write);
        json.WriteBoolean("last", d.Last);
        json.WriteNumber("prg_index", d.Index.Value);
        json.WriteString("page_address", $"0x{d.PageAddress:x}");
        json.WriteBoolean("stop_marker", d.IsStopMarker);
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "smmuv3-pri-resp" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this PriResponseCommand d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "smmuv3-pri-resp");
        json.WriteString("opcode", $"0x{PriResponseCommand.Opcode:x2}");
        json.WriteString("sid", $"0x{d.StreamId:x8}");
        json.WriteBoolean("ssv", d.SubstreamValid);
        json.WriteString("ssid", $"0x{d.SubstreamId.Value:x}");
        json.WriteNumber("prg_index", d.Index.Value);
        json.WriteNumber("resp", (byte)d.Response);
        json.WriteString("response", d.Response.Name());
        json.WriteString("response_code", d.Response.IsDefined() ? d.Code.Name() : "none");
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "smmuv3-event" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this FaultEvent d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "smmuv3-event");
        json.WriteString("event_id", $"0x{d.EventId:x2}");
        if (d.EventName is { } name) json.WriteString("event", name);
        else json.WriteNull("event");
        json.WriteBoolean("recoverable_fault", d.IsRecoverableFault);
        json.WriteString("sid", $"0x{d.StreamId:x8}");
        json.WriteBoolean("ssv", d.SubstreamValid);
        json.WriteString("ssid", $"0x{d.SubstreamId.Value:x}");
        json.WriteString("stag", $"0x{d.StallTag:x4}");
        json.WriteBoolean("stall", d.Stall);
        json.WriteBoolean("pnu", d.PnU);
        json.WriteBoolean("ind", d.InD);
        json.WriteBoolean("rnw", d.RnW);
        json.WriteBoolean("s2", d.S2);
        json.WriteNumber("class", d.Class);
        json.WriteString("input_address", $"0x{d.InputAddress:x}");
        json.WriteString("ipa", $"0x{d.Ipa:x}");
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "smmuv3-resume" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this ResumeCommand d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "smmuv3-resume");
        json.WriteString("opcode", $"0x{ResumeCommand.Opcode:x2}");
        json.WriteString("sid", $"0x{d.StreamId:x8}");
        json.WriteNumber("action", (byte)d.Action);
        json.WriteString("action_name", d.Action.Name());
        json.WriteString("stag", $"0x{d.StallTag:x4}");
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "smmuv3-stall-term" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this StallTerminateCommand d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "smmuv3-stall-term");
        json.WriteString("opcode", $"0x{StallTerminateCommand.Opcode:x2}");
        json.WriteString("sid", $"0x{d.StreamId:x8}");
        json.WriteEndObject();
    }

    /// <summary>Writes the fields as a JSON object whose "record" is "smmuv3-sync" (what <c>faultline decode</c> prints).</summary>
    public static void WriteJson(this SyncCommand d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "smmuv3-sync");
        json.WriteString("opcode", $"0x{SyncCommand.Opcode:x2}");
        json.WriteNumber("cs", (byte)d.Completion);
        json.WriteString("cs_name", d.Completion switch { SyncCompletion.None => "NONE", SyncCompletion.Irq => "IRQ", _ => "SEV" });
        json.WriteNumber("msh", d.Shareability);
        json.WriteNumber("msiattr", d.MsiAttributes);
        json.WriteString("msidata", $"0x{d.MsiData:x8}");
        json.WriteString("msiaddr", $"0x{d.MsiAddress:x16}");
        json.WriteEndObject();
    }

    /// <summary>The uAPI field names, plus the flag and permission bits spelled out.</summary>
    public static void WriteJson(this PageFaultRecord d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "iommufd-fault");
        json.WriteNumber("flags", (uint)d.Flags);
        json.WriteBoolean("pasid_valid", d.HasPasid);
        json.WriteBoolean("last_page", d.IsLast);
        json.WriteBoolean("needs_pasid", (d.Flags & PageFaultFlags.ResponseNeedsPasid) != 0);
        json.WriteNumber("undefined_flags", (uint)(d.Flags & ~(PageFaultRecord.DefinedFlags | PageFaultFlags.ResponseNeedsPasid)));
        json.WriteNumber("dev_id", d.DevId);
        json.WriteNumber("pasid", d.Pasid);
        json.WriteNumber("grpid", d.GroupId);
        json.WriteNumber("perm", (uint)d.Perm);
        json.WriteBoolean("read", (d.Perm & PageFaultPermissions.Read) != 0);
        json.WriteBoolean("write", (d.Perm & PageFaultPermissions.Write) != 0);
        json.WriteBoolean("exec", (d.Perm & PageFaultPermissions.Exec) != 0);
        json.WriteBoolean("priv", (d.Perm & PageFaultPermissions.Priv) != 0);
        json.WriteNumber("__reserved", 0);
        json.WriteString("addr", $"0x{d.Address:x}");
        json.WriteNumber("length", d.Length);
        json.WriteNumber("cookie", d.Cookie);
        json.WriteEndObject();
    }

    /// <summary>The uAPI field names, the code's name if it is defined, and whether R47 accepts it.</summary>
    public static void WriteJson(this PageResponseRecord d, Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("record", "iommufd-response");
        json.WriteNumber("cookie", d.Cookie);
        json.WriteNumber("code", (uint)d.Code);
        if (d.HasDefinedCode) json.WriteString("response", d.Code == IommufdPageResponseCode.Success ? "SUCCESS" : "INVALID");
        else json.WriteNull("response");
        json.WriteBoolean("accepted_code", d.HasDefinedCode);
        json.WriteEndObject();
    }
}
