namespace PricingOptimizer.Tests.Fixtures;

/// <summary>The repository the tests were built from: the folder above the test binaries that holds PricingOptimizer.sln.</summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "PricingOptimizer.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("the tests run outside the repository: PricingOptimizer.sln not found above " + AppContext.BaseDirectory);
    }
}
