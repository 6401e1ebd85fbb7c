using Parquet;
using Parquet.Serialization;
using PricingOptimizer.EventLog;

namespace PricingOptimizer.Lake;

/// <summary>Writes events files: to a hidden temporary name first, then renamed into place, so a reader never sees half a file.</summary>
public static class ParquetEventWriter
{
    private static readonly ParquetOptions Options = new() { CompressionMethod = CompressionMethod.Snappy };

    /// <summary>Writes <paramref name="records"/> (one partition's) to <paramref name="path"/>, replacing a file a crashed run left there.</summary>
    public static async Task WriteAsync(string path, IReadOnlyList<LogRecord> records, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            var rows = new LakeRow[records.Count];
            for (var i = 0; i < rows.Length; i++)
            {
                rows[i] = LakeRow.From(records[i]);
            }

            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await ParquetSerializer.SerializeAsync(rows, stream, Options, cancellationToken: cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
