namespace PricingOptimizer.Tests.Fixtures;

/// <summary>A folder that is removed with the test.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Path = Directory.CreateTempSubdirectory("po-test-").FullName;

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a native library; the OS cleans temp folders.
        }
    }
}
