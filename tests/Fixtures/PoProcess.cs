using System.Diagnostics;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>Runs the real <c>po</c> command line as a child process, the way a user does.</summary>
public static class PoProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Task<Result> RunAsync(string workingDirectory, IDictionary<string, string>? environment, params string[] args) =>
        RunDllAsync("po.dll", workingDirectory, environment, args);

    /// <summary>Another program of the solution built beside the tests (a sample app), the same way.</summary>
    public static Task<Result> RunDllAsync(string dll, string workingDirectory, IDictionary<string, string>? environment, params string[] args) =>
        RunProgramAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, dll), .. args], workingDirectory, environment, TimeSpan.FromMinutes(3));

    /// <summary>Any program (bash, <c>dotnet run</c>) with its output kept; killed after <paramref name="timeout"/>.</summary>
    public static async Task<Result> RunProgramAsync(string program, IEnumerable<string> args, string workingDirectory,
        IDictionary<string, string>? environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not exit within {timeout}: {await stdout}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
