import Conformance

/// A report framed as the Image probes frame it (Corpus/probe-image/report.c): noise, the
/// header, the body, then the end line with the line count and ProbeHash64 of what precedes it.
package enum ImageReportText {
    package static let noise = "OpenSBI v1.1\nBoot HART ID : 0\n"
    package static func report(_ body: String) -> [UInt8] {
        let text = "IMAGEPROBE 1\n" + body
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).count   // the header, and each body line
        let bytes = Array(text.utf8)
        return Array(noise.utf8) + bytes + Array("end lines=\(hex(UInt64(lines))) hash64=\(hex(ProbeHash64.of(bytes)))\n".utf8)
    }
    /// An 8-byte DTB stand-in the header below describes (totalsize 0x10).
    package static let arm64 = """
        arch arm64
        variant arm64-t0-anywhere
        base addr=0x40200000 len=0x4740
        reg x0=0x48200000 x1=0x0 x2=0x0 x3=0x0
        cpu el=0x2 daif=0x3c0 sctlr=0x0 cntfrq=0x3b9aca0 id_aa64pfr0=0x1000222 hcr_el2=0x80000000 icc_sre_el2=0xf
        uart pl011 addr=0x9000000 reg_shift=0x0 from=stdout-path
        hash64 image 0x40200000 0x4740 0x1cce14d990c43cdd
        fdt addr=0x48200000 magic=0xd00dfeed totalsize=0x10 off_struct=0x40 off_strings=0x200c off_rsvmap=0x30 version=0x11 last_comp=0x10 boot_cpuid=0x0 size_strings=0x208 size_struct=0x1fcc valid=0x1
        rsvmap addr=0x48300000 size=0x1000
        dt-memory /memory@40000000 addr=0x40000000 size=0x40000000
        dt-cpu /cpus/cpu@0 reg=0x0
        mem bootargs 0x48201fa0 0x4 782079.1.
        initrd start=0x48000000 end=0x48003005
        hash64 initrd 0x48000000 0x3005 0xc255139592be7fbd
        mem dtb 0x48200000 0x10 d00dfeed00000010.6.ffff
        exception esr=0x2000000 elr=0x40201234 far=0x0
        exceptions count=0x1

        """
    package static let riscv64 = """
        arch riscv64
        variant riscv64-t200000
        base addr=0x80200000 len=0x2c68
        reg a0=0x0 a1=0x82200000 a2=0x7 a3=0x19
        cpu sstatus=0x8000000200006000 satp=0x0
        sbi spec_version=0x1000000 spec_error=0x0 impl_id=0x1 impl_version=0x10001 srst=0x1
        uart ns16550a addr=0x10000000 reg_shift=0x0 from=first-okay
        hash64 image 0x80200000 0x2c68 0xe1dd9c24dad3a3b
        fdt addr=0x82200000 magic=0xd00dfeed totalsize=0x8 off_struct=0x38 off_strings=0xf4c off_rsvmap=0x28 version=0x11 last_comp=0x10 boot_cpuid=0x0 size_strings=0x1b3 size_struct=0xf14 valid=0x1
        dt-reserved /reserved-memory/mmode_resv0@80000000 addr=0x80000000 size=0x80000
        dt-memory /memory@80000000 addr=0x80000000 size=0x40000000
        dt-cpu /cpus/cpu@0 reg=0x0
        unreadable initrd addr=0x100000000 len=0x3005
        initrd start=0x100000000 end=0x100003005
        mem dtb 0x82200000 0x8 d00dfeed00000008

        """
    /// The arm64 body with one line replaced (or removed, with "").
    package static func arm64(replacing prefix: String, with line: String) -> [UInt8] {
        report(arm64.split(separator: "\n", omittingEmptySubsequences: false).compactMap { l -> String? in
            l.hasPrefix(prefix) ? (line.isEmpty ? nil : line) : String(l)
        }.joined(separator: "\n"))
    }
}
