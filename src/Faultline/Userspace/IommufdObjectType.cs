namespace Faultline.Userspace;

/// <summary>The kinds of object in an iommufd context's table (<c>enum iommufd_object_type</c>).</summary>
public enum IommufdObjectType
{
    Ioas,
    Device,
    HwptPaging,
    HwptNested,
    Fault,
    Viommu,
    Vdevice,
}
