using System.IO.Hashing;
using System.Text;

namespace PricingOptimizer.Experiments;

/// <summary>
/// The first assignments a process remembers, in one fixed table allocated on first use: each slot holds a 128-bit
/// hash of (tenant, experiment and its creation time, user), the variant's index and when the slot expires, 24 bytes
/// a user (a million users in 24 MB, where a general cache of string keys took about 300 MB and its garbage collection
/// showed in the tail latency). A slot is chosen by the hash; a new user overwrites whoever held it (a direct-mapped
/// cache: a forgotten user is read from the store again). A recreated experiment's users hash differently, so its
/// predecessor's answers are never reused. Slots are guarded by striped locks, so a read never sees half a write.
/// </summary>
public sealed class RememberedVariants(TimeProvider time, int slotsLog2, TimeSpan rememberFor)
{
    private const int Stripes = 64;

    private readonly Lock[] stripes = [.. Enumerable.Range(0, Stripes).Select(_ => new Lock())];
    private readonly DateTimeOffset origin = time.GetUtcNow();
    private readonly Lock allocating = new();
    private Slot[]? table;

    private struct Slot
    {
        public UInt128 Key;
        public int VariantPlusOne;
        public int ExpiresAtSecond;
    }

    /// <summary>The variant index remembered for the user, if it is there and fresh.</summary>
    public bool TryGet(string tenantId, Experiment experiment, string userId, out int variantIndex)
    {
        variantIndex = -1;
        var slots = Volatile.Read(ref table);
        if (slots is null)
        {
            return false;
        }

        var key = KeyOf(tenantId, experiment, userId);
        var at = Index(key, slots.Length);
        lock (stripes[at & (Stripes - 1)])
        {
            ref var slot = ref slots[at];
            if (slot.VariantPlusOne == 0 || slot.Key != key || slot.ExpiresAtSecond <= Now())
            {
                return false;
            }

            variantIndex = slot.VariantPlusOne - 1;
            return true;
        }
    }

    /// <summary>Remembers the user's variant index for <c>rememberFor</c>.</summary>
    public void Set(string tenantId, Experiment experiment, string userId, int variantIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(variantIndex);
        var slots = Table();
        var key = KeyOf(tenantId, experiment, userId);
        var at = Index(key, slots.Length);
        var expires = (int)Math.Min(int.MaxValue, Now() + (long)Math.Ceiling(rememberFor.TotalSeconds));
        lock (stripes[at & (Stripes - 1)])
        {
            slots[at] = new Slot { Key = key, VariantPlusOne = variantIndex + 1, ExpiresAtSecond = expires };
        }
    }

    private Slot[] Table()
    {
        if (Volatile.Read(ref table) is { } slots)
        {
            return slots;
        }

        lock (allocating)
        {
            return table ??= new Slot[1 << slotsLog2];
        }
    }

    private long Now() => (long)(time.GetUtcNow() - origin).TotalSeconds;

    private static int Index(UInt128 key, int length) => (int)((ulong)key & (ulong)(length - 1));

    private static UInt128 KeyOf(string tenantId, Experiment experiment, string userId)
    {
        var length = Encoding.UTF8.GetByteCount(tenantId) + Encoding.UTF8.GetByteCount(experiment.ExperimentId) + Encoding.UTF8.GetByteCount(userId) + 10;
        var large = length > 512 ? new byte[length] : null;
        Span<byte> buffer = large ?? stackalloc byte[512];
        var written = Encoding.UTF8.GetBytes(tenantId, buffer);
        buffer[written++] = 0;
        written += Encoding.UTF8.GetBytes(experiment.ExperimentId, buffer[written..]);
        buffer[written++] = 0;
        BitConverter.TryWriteBytes(buffer[written..], experiment.CreatedAt.UtcTicks);
        written += sizeof(long);
        written += Encoding.UTF8.GetBytes(userId, buffer[written..]);
        return XxHash128.HashToUInt128(buffer[..written]);
    }
}
