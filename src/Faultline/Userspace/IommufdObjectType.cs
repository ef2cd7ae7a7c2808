namespace Faultline.Userspace;

/// <summary>The kinds of object in an iommufd context's table (<c>enum iommufd_object_type</c>).</summary>
public enum IommufdObjectType
{
    /// <summary><c>IOMMUFD_OBJ_IOAS</c>: an I/O address space.</summary>
    Ioas,
    /// <summary><c>IOMMUFD_OBJ_DEVICE</c>: a bound device.</summary>
    Device,
    /// <summary><c>IOMMUFD_OBJ_HWPT_PAGING</c>: a paging HWPT on an IOAS.</summary>
    HwptPaging,
    /// <summary><c>IOMMUFD_OBJ_HWPT_NESTED</c>: a nested HWPT on a nest parent or a vIOMMU.</summary>
    HwptNested,
    /// <summary><c>IOMMUFD_OBJ_FAULT</c>: a fault queue (R39).</summary>
    Fault,
    /// <summary><c>IOMMUFD_OBJ_VIOMMU</c>: a vIOMMU.</summary>
    Viommu,
    /// <summary><c>IOMMUFD_OBJ_VDEVICE</c>: a device as a vIOMMU's guest knows it.</summary>
    Vdevice,
}
